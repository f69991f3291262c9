/**
 * The server's `$/progress` in the editor: every job shows in the status bar at once; a job still
 * running after NOTIFY_DELAY_MS also gets a notification with a Cancel button (which sends
 * `window/workDoneProgress/cancel`, plus `$/cancelRequest` for a request we started).
 *
 * Replaces vscode-languageclient's built-in handler for server-created tokens (which shows them
 * only in the status bar, without a way to cancel).
 */
import { randomUUID } from "node:crypto";
import * as vscode from "vscode";
import {
  LanguageClient,
  ProgressToken,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  WorkDoneProgressReport,
} from "vscode-languageclient/node";

export const NOTIFY_DELAY_MS = 600;
export const CANCEL_GRACE_MS = 5000;

interface Job {
  token: ProgressToken;
  title: string;
  message?: string;
  percentage?: number;
  cancellable: boolean;
  /** The server has begun progress on this token (so it can honour a progress cancel). */
  serverOwned: boolean;
  notified: boolean;
  finish: () => void;
  finished: Promise<void>;
  notifyTimer?: NodeJS.Timeout;
  /** Report to the notification (set once it is shown). */
  report?: (message: string | undefined, increment: number | undefined) => void;
  onCancel?: () => void;
}

export class ProgressUi implements vscode.Disposable {
  private readonly jobs = new Map<ProgressToken, Job>();
  private readonly status: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly notifications: () => boolean) {
    this.status = vscode.window.createStatusBarItem("tuneline.jobs", vscode.StatusBarAlignment.Left, 50);
    this.status.name = "Tuneline Jobs";
    this.status.command = "tuneline.cmd.showRuns";
  }

  /** Jobs currently running (for "a job is running, restart later?" questions). */
  get active(): number {
    return this.jobs.size;
  }

  /** Take over `window/workDoneProgress/create` for a started client. */
  attach(client: LanguageClient): vscode.Disposable {
    return client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
      this.track(client, token);
    });
  }

  /** A fresh token for a request we send (`workDoneToken`). */
  static newToken(): string {
    return `tuneline-${randomUUID()}`;
  }

  /**
   * Follow one token. `onCancel` runs in addition to the cancel notification (e.g. to cancel
   * the request that carries the token).
   */
  track(client: LanguageClient, token: ProgressToken, onCancel?: () => void): vscode.Disposable {
    const sub = client.onProgress(WorkDoneProgress.type, token, (value) => {
      if (value.kind === "begin") {
        this.begin(client, token, value, onCancel);
      } else if (value.kind === "report") {
        this.report(token, value);
      } else {
        this.end(token, value.message);
        sub.dispose();
      }
    });
    return new vscode.Disposable(() => {
      sub.dispose();
      this.end(token);
    });
  }

  /**
   * Show a job at once for a request we send with `workDoneToken` (so there is visible, cancellable
   * progress even when the server reports none); the server's own begin/report for the token
   * then update it. Dispose to end it.
   */
  trackRequest(client: LanguageClient, token: ProgressToken, title: string, onCancel: () => void): vscode.Disposable {
    this.begin(client, token, { kind: "begin", title, cancellable: true }, onCancel, true);
    return this.track(client, token, onCancel);
  }

  private begin(client: LanguageClient, token: ProgressToken, value: WorkDoneProgressBegin, onCancel?: () => void, local = false): void {
    const existing = this.jobs.get(token);
    if (existing) {
      // The server's begin for a token we already show: adopt its title and state.
      existing.serverOwned = true;
      existing.title = value.title || existing.title;
      this.report(token, { kind: "report", message: value.message, percentage: value.percentage, cancellable: value.cancellable ?? existing.cancellable });
      return;
    }
    let finish = () => undefined as void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const job: Job = {
      token,
      title: value.title,
      message: value.message,
      percentage: value.percentage,
      cancellable: value.cancellable ?? false,
      serverOwned: !local,
      notified: false,
      finish,
      finished,
      onCancel: () => {
        // A server that runs the progress stops gracefully (and still answers the request);
        // the request itself is cancelled only if the server never took the token, or has not
        // ended it CANCEL_GRACE_MS later.
        if (job.serverOwned) {
          void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
          if (onCancel) {
            const timer = setTimeout(() => this.jobs.has(token) && onCancel(), CANCEL_GRACE_MS);
            void job.finished.then(() => clearTimeout(timer));
          }
        } else {
          onCancel?.();
        }
      },
    };
    this.jobs.set(token, job);
    if (this.notifications()) {
      job.notifyTimer = setTimeout(() => this.notify(job), NOTIFY_DELAY_MS);
    }
    this.render();
  }

  private notify(job: Job): void {
    if (!this.jobs.has(job.token)) {
      return;
    }
    job.notified = true;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: withPrefix(job.title), cancellable: job.cancellable },
      (progress, cancel) => {
        let last = job.percentage ?? 0;
        progress.report({ message: job.message, increment: job.percentage });
        job.report = (message, percentage) => {
          const increment = percentage === undefined ? undefined : Math.max(0, percentage - last);
          last = percentage ?? last;
          progress.report({ message, increment });
        };
        cancel.onCancellationRequested(() => job.onCancel?.());
        return job.finished;
      },
    );
  }

  private report(token: ProgressToken, value: WorkDoneProgressReport): void {
    const job = this.jobs.get(token);
    if (!job) {
      return;
    }
    if (value.message !== undefined) {
      job.message = value.message;
    }
    if (value.percentage !== undefined) {
      job.percentage = value.percentage;
    }
    if (value.cancellable !== undefined) {
      job.cancellable = value.cancellable;
    }
    job.report?.(job.message, value.percentage);
    this.render();
  }

  private end(token: ProgressToken, message?: string): void {
    const job = this.jobs.get(token);
    if (!job) {
      return;
    }
    clearTimeout(job.notifyTimer);
    this.jobs.delete(token);
    job.finish();
    if (message && job.notified) {
      void vscode.window.setStatusBarMessage(`${withPrefix(job.title)}: ${message}`, 5000);
    }
    this.render();
  }

  /** Cancel every running job (used by the Cancel Run command when nothing else matches). */
  cancelAll(): number {
    const n = this.jobs.size;
    for (const job of this.jobs.values()) {
      job.onCancel?.();
    }
    return n;
  }

  private render(): void {
    const jobs = [...this.jobs.values()];
    if (jobs.length === 0) {
      this.status.hide();
    } else {
      const j = jobs[jobs.length - 1];
      const pct = j.percentage !== undefined ? ` ${Math.round(j.percentage)}%` : "";
      const more = jobs.length > 1 ? ` (+${jobs.length - 1})` : "";
      this.status.text = `$(sync~spin) ${j.title}${pct}${more}`;
      this.status.tooltip = jobs.map((x) => `${x.title}${x.message ? ": " + x.message : ""}`).join("\n");
      this.status.show();
    }
    this.changed.fire();
  }

  /** End every job (the server that reported them is gone). */
  reset(): void {
    for (const token of [...this.jobs.keys()]) {
      this.end(token);
    }
  }

  dispose(): void {
    this.reset();
    this.status.dispose();
    this.changed.dispose();
  }
}

/** "Tuneline: <title>" without doubling a prefix the server already put there. */
export function withPrefix(title: string): string {
  return /^tuneline\b/i.test(title) ? title : `Tuneline: ${title}`;
}
