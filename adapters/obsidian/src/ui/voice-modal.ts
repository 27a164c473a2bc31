// "Choose voice": a suggest modal over the daemon's voices.

import { type App, SuggestModal } from "obsidian";
import type { Voice } from "../client";

export class VoiceSuggestModal extends SuggestModal<Voice> {
  constructor(
    app: App,
    private readonly voices: Voice[],
    private readonly current: string,
    private readonly onChoose: (voice: Voice) => void,
  ) {
    super(app);
    this.setPlaceholder("Choose the voice that reads your notes");
    this.emptyStateText = "No voice matches";
  }

  getSuggestions(query: string): Voice[] {
    const q = query.trim().toLowerCase();
    return this.voices.filter(
      (v) => !q || v.name.toLowerCase().includes(q) || v.id.toLowerCase().includes(q) || v.languages.includes(q),
    );
  }

  renderSuggestion(voice: Voice, el: HTMLElement): void {
    const title = el.createDiv({ cls: "ownvoice-voice-name" });
    title.setText(voice.id === this.current ? `${voice.name} (current)` : voice.name);
    const details = [voice.languages.join(", ") || "unknown language", voice.builtin ? "built in" : "your voice"];
    if (voice.licence) details.push(voice.licence);
    el.createEl("small", { cls: "ownvoice-voice-details", text: details.join(" · ") });
  }

  onChooseSuggestion(voice: Voice): void {
    this.onChoose(voice);
  }
}
