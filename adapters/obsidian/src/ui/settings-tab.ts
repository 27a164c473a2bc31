// Settings tab: daemon address and token, voice and speed, reading rules, behaviour.

import { type App, type DropdownComponent, Notice, PluginSettingTab, Setting } from "obsidian";
import { userMessage } from "../errors";
import {
  DEFAULT_DAEMON_URL,
  MAX_SPEED,
  MIN_SPEED,
  type OwnvoiceSettings,
  checkDaemonUrl,
  defaultTokenPath,
} from "../settings";
import type OwnvoicePlugin from "../main";

export class OwnvoiceSettingTab extends PluginSettingTab {
  constructor(
    app: App,
    private readonly plugin: OwnvoicePlugin,
  ) {
    super(app, plugin);
  }

  private async save(patch: Partial<OwnvoiceSettings>): Promise<void> {
    await this.plugin.updateSettings(patch);
  }

  override display(): void {
    const { containerEl } = this;
    const s = this.plugin.settings;
    containerEl.empty();

    new Setting(containerEl).setName("Daemon").setHeading();
    const urlSetting = new Setting(containerEl)
      .setName("Daemon URL")
      .setDesc(`Address of the ownvoice daemon on this computer. Default: ${DEFAULT_DAEMON_URL}`);
    const urlProblem = containerEl.createDiv({ cls: "ownvoice-error" });
    urlSetting.addText((t) =>
      t
        .setPlaceholder(DEFAULT_DAEMON_URL)
        .setValue(s.daemonUrl)
        .onChange(async (value) => {
          const url = value.trim() || DEFAULT_DAEMON_URL;
          try {
            checkDaemonUrl(url, this.plugin.settings.allowRemoteDaemon);
            urlProblem.setText("");
          } catch (err) {
            urlProblem.setText(userMessage(err).replace(/^ownvoice: /, ""));
          }
          await this.save({ daemonUrl: url });
        }),
    );
    new Setting(containerEl)
      .setName("Allow a non-local daemon")
      .setDesc(
        "Off: the plugin only talks to this computer (127.0.0.1, localhost, ::1). On: it sends your notes' text " +
          "and your token to the address above, wherever it is. Only turn this on for a machine you control.",
      )
      .addToggle((t) => t.setValue(s.allowRemoteDaemon).onChange((v) => this.save({ allowRemoteDaemon: v })));

    const defaultPath = defaultTokenPath(this.plugin.platform);
    new Setting(containerEl)
      .setName("Token")
      .setDesc("The daemon writes a random token to a file when it first starts; the plugin reads it from there.")
      .addDropdown((d) =>
        d
          .addOption("file", "Read from the token file")
          .addOption("pasted", "Pasted below")
          .setValue(s.tokenSource)
          .onChange(async (v) => {
            await this.save({ tokenSource: v === "pasted" ? "pasted" : "file" });
            this.display();
          }),
      );
    if (s.tokenSource === "file") {
      new Setting(containerEl)
        .setName("Token file")
        .setDesc(`Leave empty for the default: ${defaultPath}`)
        .addText((t) =>
          t
            .setPlaceholder(defaultPath)
            .setValue(s.tokenFile)
            .onChange((v) => this.save({ tokenFile: v.trim() })),
        );
    } else {
      new Setting(containerEl)
        .setName("Pasted token")
        .setDesc("Stored in this vault's plugin data. Shown by `ownvoice status` (token file).")
        .addText((t) => {
          t.inputEl.type = "password";
          t.setValue(s.token).onChange((v) => this.save({ token: v.trim() }));
        });
    }

    const test = new Setting(containerEl).setName("Test connection").setDesc("Checks the address and the token.");
    test.addButton((b) =>
      b.setButtonText("Test connection").onClick(async () => {
        b.setDisabled(true);
        test.setDesc("Connecting…");
        const message = await this.plugin.testConnection();
        test.setDesc(message);
        new Notice(message);
        b.setDisabled(false);
        // The voice list may have become available.
        this.voicesLoaded = this.fillVoices();
      }),
    );

    new Setting(containerEl).setName("Voice").setHeading();
    this.voiceSetting = new Setting(containerEl).setName("Voice").setDesc("The voice that reads your notes.");
    this.voiceSetting.addDropdown((d) => {
      this.voiceDropdown = d;
      d.addOption(s.voice, s.voice)
        .setValue(s.voice)
        .onChange((v) => this.save({ voice: v }));
    });
    this.voicesLoaded = this.fillVoices();
    new Setting(containerEl)
      .setName("Speed")
      .setDesc("Speaking rate (1 = natural).")
      .addSlider((sl) =>
        sl
          .setLimits(MIN_SPEED, MAX_SPEED, 0.05)
          .setValue(s.speed)
          .setDynamicTooltip()
          .onChange((v) => this.save({ speed: v })),
      );

    new Setting(containerEl).setName("Reading rules").setHeading();
    new Setting(containerEl).setName("Code blocks").addDropdown((d) =>
      d
        .addOption("announce", "Say “code block”")
        .addOption("read", "Read them")
        .addOption("skip", "Skip them")
        .setValue(s.codeBlocks)
        .onChange((v) => this.save({ codeBlocks: v as OwnvoiceSettings["codeBlocks"] })),
    );
    new Setting(containerEl).setName("Links").addDropdown((d) =>
      d
        .addOption("text", "Read the link text")
        .addOption("announce", "Say “link”")
        .setValue(s.links)
        .onChange((v) => this.save({ links: v as OwnvoiceSettings["links"] })),
    );
    new Setting(containerEl).setName("Math").addDropdown((d) =>
      d
        .addOption("formula", "Say “formula”")
        .addOption("verbalize", "Read it out")
        .setValue(s.math)
        .onChange((v) => this.save({ math: v as OwnvoiceSettings["math"] })),
    );
    new Setting(containerEl)
      .setName("Pause after headings")
      .addToggle((t) => t.setValue(s.headingPause).onChange((v) => this.save({ headingPause: v })));

    new Setting(containerEl).setName("Behaviour").setHeading();
    new Setting(containerEl)
      .setName("Stop when switching notes")
      .addToggle((t) => t.setValue(s.stopOnNoteSwitch).onChange((v) => this.save({ stopOnNoteSwitch: v })));
    new Setting(containerEl)
      .setName("Follow the sentence being read")
      .setDesc("Scroll the editor so that the highlighted sentence stays visible.")
      .addToggle((t) => t.setValue(s.followHighlight).onChange((v) => this.save({ followHighlight: v })));
    new Setting(containerEl)
      .setName("Embed exported audio")
      .setDesc("After “Export note audio”, add an embed of the audio file at the end of the note.")
      .addToggle((t) => t.setValue(s.embedExportedAudio).onChange((v) => this.save({ embedExportedAudio: v })));
  }

  /** Settles when the voice dropdown has been filled from the daemon (or that failed). */
  voicesLoaded: Promise<void> = Promise.resolve();
  private voiceSetting: Setting | null = null;
  private voiceDropdown: DropdownComponent | null = null;

  /** Replaces the voice dropdown's options with the daemon's voices (keeps the single option when it is down). */
  private async fillVoices(): Promise<void> {
    const dropdown = this.voiceDropdown;
    if (!dropdown) return;
    try {
      const list = await this.plugin.client().voices();
      const current = this.plugin.settings.voice;
      dropdown.selectEl.empty();
      const ids = new Set(list.voices.map((v) => v.id));
      for (const v of list.voices) dropdown.addOption(v.id, v.builtin ? v.name : `${v.name} (yours)`);
      if (!ids.has(current)) dropdown.addOption(current, `${current} (not found)`);
      dropdown.setValue(current);
      this.voiceSetting?.setDesc("The voice that reads your notes.");
    } catch (err) {
      this.voiceSetting?.setDesc(`The voice that reads your notes. Voices cannot be listed: ${userMessage(err)}`);
    }
  }
}
