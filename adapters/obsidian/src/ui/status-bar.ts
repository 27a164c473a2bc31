// Status-bar player: play/pause, progress "3/12", speed and current voice, plus training progress.

import { Menu, setIcon } from "obsidian";
import type { PlayerState } from "../player";

export const SPEEDS = [0.75, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2] as const;

export interface StatusView {
  state: PlayerState;
  /** 0-based sentence index, -1 when not reading. */
  index: number;
  count: number;
  speed: number;
  voice: string;
  /** Text of a running training job, or empty. */
  training: string;
}

export interface StatusHandlers {
  toggle(): void;
  stop(): void;
  setSpeed(speed: number): void;
  chooseVoice(): void;
}

export function formatSpeed(speed: number): string {
  return `${Number(speed.toFixed(2))}×`;
}

export class StatusBarPlayer {
  private readonly button: HTMLElement;
  private readonly stopButton: HTMLElement;
  private readonly progress: HTMLElement;
  private readonly speed: HTMLElement;
  private readonly voice: HTMLElement;
  private readonly training: HTMLElement;
  private view: StatusView = { state: "idle", index: -1, count: 0, speed: 1, voice: "default", training: "" };

  constructor(
    readonly el: HTMLElement,
    private readonly handlers: StatusHandlers,
  ) {
    el.addClass("ownvoice-status");
    this.button = el.createSpan({ cls: "ownvoice-status-button", attr: { role: "button", tabindex: "0" } });
    this.stopButton = el.createSpan({
      cls: "ownvoice-status-button",
      attr: { role: "button", tabindex: "0", "aria-label": "Stop reading" },
    });
    setIcon(this.stopButton, "square");
    this.progress = el.createSpan({ cls: "ownvoice-status-progress" });
    this.speed = el.createSpan({
      cls: "ownvoice-status-speed",
      attr: { role: "button", tabindex: "0", "aria-label": "Reading speed" },
    });
    this.voice = el.createSpan({
      cls: "ownvoice-status-voice",
      attr: { role: "button", tabindex: "0", "aria-label": "Choose voice" },
    });
    this.training = el.createSpan({ cls: "ownvoice-status-training" });
    this.button.addEventListener("click", () => this.handlers.toggle());
    this.stopButton.addEventListener("click", () => this.handlers.stop());
    this.speed.addEventListener("click", (evt) => this.speedMenu(evt as MouseEvent));
    this.voice.addEventListener("click", () => this.handlers.chooseVoice());
    this.render({});
  }

  /** Updates the parts that changed. */
  render(patch: Partial<StatusView>): void {
    this.view = { ...this.view, ...patch };
    const v = this.view;
    const reading = v.state !== "idle";
    this.button.toggleClass("ownvoice-hidden", !reading);
    this.stopButton.toggleClass("ownvoice-hidden", !reading);
    this.progress.toggleClass("ownvoice-hidden", !reading);
    const icon = v.state === "playing" ? "pause" : v.state === "loading" ? "loader" : "play";
    setIcon(this.button, icon);
    this.button.setAttr("aria-label", v.state === "playing" ? "Pause reading" : "Resume reading");
    this.button.toggleClass("ownvoice-loading", v.state === "loading");
    this.progress.setText(reading && v.index >= 0 ? `${v.index + 1}/${v.count}` : reading ? `…/${v.count}` : "");
    this.speed.setText(formatSpeed(v.speed));
    this.voice.setText(v.voice);
    this.training.setText(v.training);
    this.training.toggleClass("ownvoice-hidden", !v.training);
  }

  get text(): string {
    return [this.progress, this.speed, this.voice, this.training]
      .filter((e) => !e.hasClass("ownvoice-hidden"))
      .map((e) => e.getText())
      .filter(Boolean)
      .join(" ");
  }

  private speedMenu(evt: MouseEvent): void {
    const menu = new Menu();
    for (const s of SPEEDS) {
      menu.addItem((item) =>
        item
          .setTitle(formatSpeed(s))
          .setChecked(Math.abs(s - this.view.speed) < 0.001)
          .onClick(() => this.handlers.setSpeed(s)),
      );
    }
    menu.showAtMouseEvent(evt);
  }
}
