"""Jobs: long work (train, eval, augment) in its own process, watched through its run folder.

Every job command exits with one of these codes.
"""

EXIT_OK = 0  # completed
EXIT_FAILED = 1  # the job ran and failed (bad data, lint errors, a crash)
EXIT_USAGE = 2  # usage or configuration error: nothing could start
EXIT_CANCELLED = 130  # cancelled; a checkpoint was saved when there was progress to save
