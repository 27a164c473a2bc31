// "Train a voice": pick audio attachments, name the voice, its language, state consent and choose noise cleaning.

import { type App, Modal, Setting, type TFile } from "obsidian";
import { userMessage } from "../errors";

export const AUDIO_EXTENSIONS: ReadonlySet<string> = new Set(["wav", "flac", "ogg", "mp3", "m4a", "webm", "oga", "opus"]);
export const TRAIN_LANGUAGES = { en: "English", zh: "Chinese (Mandarin)", ja: "Japanese" } as const;
export type TrainLanguage = keyof typeof TRAIN_LANGUAGES;
/** Whether the daemon cleans background noise (NSNet2) off the recordings first; "" leaves it to its train_denoise setting. */
export const DENOISE_CHOICES = {
  "": "As the daemon is set (train_denoise, off unless changed)",
  off: "Off",
  auto: "Only noisy recordings",
  on: "All recordings",
} as const;
export type TrainDenoise = Exclude<keyof typeof DENOISE_CHOICES, "">;
/** Files listed in the modal; more would make it unusable (pick from a note that embeds them instead). */
const MAX_LISTED = 200;

export interface TrainChoice {
  name: string;
  lang: TrainLanguage;
  consent: string;
  files: TFile[];
  /** Absent: the daemon's setting decides. */
  denoise?: TrainDenoise;
}

/** Checks the form; returns the problem to show, or null when it can be sent. */
export function validateTrainChoice(c: TrainChoice): string | null {
  if (!c.name.trim()) return "Give the voice a name.";
  if (c.name.trim().length > 80) return "The name is too long (80 characters at most).";
  if (c.files.length === 0) return "Select at least one recording.";
  if (c.consent.trim().length < 10) {
    return "Write a consent statement: that you are the speaker, or have the speaker's permission.";
  }
  return null;
}

export class TrainVoiceModal extends Modal {
  private readonly chosen: Set<TFile>;
  private name = "";
  private lang: TrainLanguage = "en";
  private consent = "";
  private denoise: TrainDenoise | "" = "";
  private errorEl: HTMLElement | null = null;
  private busy = false;

  constructor(
    app: App,
    private readonly candidates: TFile[],
    preselected: TFile[],
    private readonly onSubmit: (choice: TrainChoice) => Promise<void>,
  ) {
    super(app);
    this.chosen = new Set(preselected);
  }

  override onOpen(): void {
    const { contentEl } = this;
    contentEl.empty();
    contentEl.addClass("ownvoice-train");
    this.titleEl.setText("Train a voice");
    contentEl.createEl("p", {
      text:
        "1–3 minutes of clear speech by one person is enough. A text file with the same name next to a " +
        "recording is sent as its transcript. Recordings stay on this computer: they go only to the local ownvoice daemon.",
    });

    new Setting(contentEl).setName("Voice name").addText((t) =>
      t.setPlaceholder("My voice").onChange((v) => {
        this.name = v;
      }),
    );
    new Setting(contentEl).setName("Language").addDropdown((d) => {
      for (const [code, label] of Object.entries(TRAIN_LANGUAGES)) d.addOption(code, label);
      d.setValue(this.lang).onChange((v) => {
        this.lang = v as TrainLanguage;
      });
    });
    new Setting(contentEl)
      .setName("Consent")
      .setDesc("Required. State that you are the speaker in these recordings, or have their permission.")
      .addTextArea((t) => {
        t.setPlaceholder("I am the speaker in these recordings and agree to a voice being made from them.");
        t.onChange((v) => {
          this.consent = v;
        });
        t.inputEl.rows = 3;
      });
    new Setting(contentEl)
      .setName("Clean background noise")
      .setDesc("Hiss or hum in the recordings ends up in the voice. Cleaning adds 1-3 s per minute of audio.")
      .addDropdown((d) => {
        for (const [value, label] of Object.entries(DENOISE_CHOICES)) d.addOption(value, label);
        d.setValue(this.denoise).onChange((v) => {
          this.denoise = v as TrainDenoise | "";
        });
      });

    new Setting(contentEl).setName("Recordings").setHeading();
    const list = contentEl.createDiv({ cls: "ownvoice-train-files" });
    if (this.candidates.length === 0) {
      list.createEl("p", { text: "No audio files found. Add recordings (wav, flac, ogg, mp3, m4a) to the vault first." });
    }
    for (const file of this.candidates.slice(0, MAX_LISTED)) {
      new Setting(list)
        .setName(file.name)
        .setDesc(file.parent && file.parent.path !== "/" ? file.parent.path : "")
        .addToggle((t) =>
          t.setValue(this.chosen.has(file)).onChange((on) => {
            if (on) this.chosen.add(file);
            else this.chosen.delete(file);
          }),
        );
    }
    if (this.candidates.length > MAX_LISTED) {
      list.createEl("p", {
        text: `Showing ${MAX_LISTED} of ${this.candidates.length} audio files: embed the ones you want in a note and run the command from there.`,
      });
    }

    this.errorEl = contentEl.createDiv({ cls: "ownvoice-error" });
    new Setting(contentEl).addButton((b) =>
      b
        .setButtonText("Train voice")
        .setCta()
        .onClick(() => void this.submit()),
    );
  }

  /** Exposed for tests: the current form as it would be sent. */
  choice(): TrainChoice {
    const choice: TrainChoice = { name: this.name.trim(), lang: this.lang, consent: this.consent.trim(), files: [...this.chosen] };
    if (this.denoise) choice.denoise = this.denoise;
    return choice;
  }

  async submit(): Promise<void> {
    if (this.busy) return;
    const choice = this.choice();
    const problem = validateTrainChoice(choice);
    if (problem) {
      this.errorEl?.setText(problem);
      return;
    }
    this.busy = true;
    this.errorEl?.setText("Uploading…");
    try {
      await this.onSubmit(choice);
      this.close();
    } catch (err) {
      this.errorEl?.setText(userMessage(err));
    } finally {
      this.busy = false;
    }
  }

  override onClose(): void {
    this.contentEl.empty();
  }
}
