/**
 * API keys live in VS Code's SecretStorage (the OS keychain), never in settings.json. They reach
 * the language server (and the jobs it spawns) only through its process environment, and only
 * in a trusted workspace.
 */
import * as vscode from "vscode";

export interface Provider {
  id: string;
  label: string;
  /** Environment variable the server and its jobs read. */
  env: string;
  detail: string;
}

export const PROVIDERS: readonly Provider[] = [
  { id: "openai", label: "OpenAI", env: "OPENAI_API_KEY", detail: "Fine-tuning jobs, judges and augmentation via api.openai.com (or tuneline.openai.baseUrl)" },
  { id: "huggingface", label: "Hugging Face", env: "HF_TOKEN", detail: "Gated base models and tokenizers from the Hub" },
  { id: "compatible", label: "OpenAI-compatible endpoint", env: "TUNELINE_LLM_API_KEY", detail: "A self-hosted or third-party endpoint used for augmentation and judging" },
];

const KEY_PREFIX = "tuneline.apiKey.";

export class Secrets {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a Tuneline key is stored or deleted (the server restarts to pick it up). */
  readonly onDidChange = this.changed.event;

  constructor(private readonly storage: vscode.SecretStorage) {
    storage.onDidChange((e) => {
      if (e.key.startsWith(KEY_PREFIX)) {
        this.changed.fire();
      }
    });
  }

  /** Environment variables for the server process: one per stored key. */
  async environment(): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const p of PROVIDERS) {
      const value = await this.storage.get(KEY_PREFIX + p.id);
      if (value) {
        env[p.env] = value;
      }
    }
    return env;
  }

  async has(providerId: string): Promise<boolean> {
    return Boolean(await this.storage.get(KEY_PREFIX + providerId));
  }

  /** The "Set API Key" command: pick a provider, type the key (masked), store or clear it. */
  async promptAndStore(): Promise<boolean> {
    const items = await Promise.all(
      PROVIDERS.map(async (p) => ({
        label: p.label,
        description: (await this.has(p.id)) ? "$(key) stored" : p.env,
        detail: p.detail,
        provider: p,
      })),
    );
    const pick = await vscode.window.showQuickPick(items, {
      title: "Tuneline: Set API Key",
      placeHolder: "Which service is the key for?",
    });
    if (!pick) {
      return false;
    }
    const value = await vscode.window.showInputBox({
      title: `Tuneline: ${pick.provider.label} API key`,
      prompt: `Stored in the OS keychain (SecretStorage) and given to the Tuneline server as ${pick.provider.env}. Leave empty to delete the stored key.`,
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined) {
      return false;
    }
    const key = KEY_PREFIX + pick.provider.id;
    if (value.trim() === "") {
      await this.storage.delete(key);
      void vscode.window.showInformationMessage(`Tuneline: the ${pick.provider.label} key was deleted.`);
    } else {
      await this.storage.store(key, value.trim());
      void vscode.window.showInformationMessage(`Tuneline: the ${pick.provider.label} key was stored.`);
    }
    return true;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
