"""Training jobs: config, data, local (transformers + peft + bitsandbytes) training, demo model."""
