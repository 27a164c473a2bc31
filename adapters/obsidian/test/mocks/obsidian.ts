// Just enough of the `obsidian` module to load the plugin in Node: records what the plugin does.
/* eslint-disable @typescript-eslint/no-explicit-any */

// Obsidian code uses window.setTimeout; in Node those timers (hiding notices later) must not keep the test alive.
(globalThis as any).window ??= {
  setTimeout: (fn: () => void, ms?: number) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (t: ReturnType<typeof setTimeout>) => clearTimeout(t),
};

// ---- a tiny DOM with Obsidian's element helpers ------------------------------------------------------------

type ElOptions = { cls?: string | string[]; text?: string; attr?: Record<string, string | number | boolean> } | string;

export class FakeElement {
  children: FakeElement[] = [];
  parent: FakeElement | null = null;
  classes = new Set<string>();
  attrs: Record<string, string> = {};
  listeners: Record<string, Array<(evt: any) => void>> = {};
  private ownText = "";
  // form-control fields used by components
  value = "";
  type = "";
  rows = 0;

  constructor(readonly tagName: string = "div") {}

  createEl(tag: string, o?: ElOptions, cb?: (el: FakeElement) => void): FakeElement {
    const el = new FakeElement(tag);
    el.parent = this;
    this.children.push(el);
    const opts = typeof o === "string" ? { cls: o } : (o ?? {});
    if (opts.cls) for (const c of Array.isArray(opts.cls) ? opts.cls : opts.cls.split(" ")) if (c) el.classes.add(c);
    if (opts.text !== undefined) el.setText(opts.text);
    for (const [k, v] of Object.entries(opts.attr ?? {})) el.attrs[k] = String(v);
    cb?.(el);
    return el;
  }
  createDiv(o?: ElOptions, cb?: (el: FakeElement) => void): FakeElement {
    return this.createEl("div", o, cb);
  }
  createSpan(o?: ElOptions, cb?: (el: FakeElement) => void): FakeElement {
    return this.createEl("span", o, cb);
  }
  setText(text: string): void {
    this.children = [];
    this.ownText = text;
  }
  getText(): string {
    return this.textContent;
  }
  get textContent(): string {
    return this.ownText + this.children.map((c) => c.textContent).join("");
  }
  empty(): void {
    this.children = [];
    this.ownText = "";
  }
  addClass(...cls: string[]): void {
    cls.forEach((c) => this.classes.add(c));
  }
  removeClass(...cls: string[]): void {
    cls.forEach((c) => this.classes.delete(c));
  }
  toggleClass(cls: string, on?: boolean): void {
    if (on ?? !this.classes.has(cls)) this.classes.add(cls);
    else this.classes.delete(cls);
  }
  hasClass(cls: string): boolean {
    return this.classes.has(cls);
  }
  setAttr(k: string, v: string | number | boolean | null): void {
    if (v === null) delete this.attrs[k];
    else this.attrs[k] = String(v);
  }
  getAttr(k: string): string | null {
    return this.attrs[k] ?? null;
  }
  addEventListener(type: string, fn: (evt: any) => void): void {
    (this.listeners[type] ??= []).push(fn);
  }
  removeEventListener(type: string, fn: (evt: any) => void): void {
    this.listeners[type] = (this.listeners[type] ?? []).filter((f) => f !== fn);
  }
  click(): void {
    for (const fn of this.listeners.click ?? []) fn({ type: "click" });
  }
  remove(): void {
    if (this.parent) this.parent.children = this.parent.children.filter((c) => c !== this);
    this.parent = null;
  }
  /** All descendants having class `cls`. */
  findAll(cls: string): FakeElement[] {
    const out: FakeElement[] = [];
    for (const c of this.children) {
      if (c.classes.has(cls)) out.push(c);
      out.push(...c.findAll(cls));
    }
    return out;
  }
}

export function setIcon(el: FakeElement, icon: string): void {
  el.attrs["data-icon"] = icon;
}

export function normalizePath(path: string): string {
  const p = path.replace(/\\/g, "/").replace(/\/+/g, "/").replace(/^\/+|\/+$/g, "");
  return p === "" ? "/" : p;
}

export const Platform = {
  isDesktop: true,
  isDesktopApp: true,
  isMobile: false,
  isMobileApp: false,
  isMacOS: false,
  isWin: false,
  isLinux: true,
};

// ---- network ----------------------------------------------------------------------------------------------

export interface MockRequest {
  url: string;
  method?: string;
  contentType?: string;
  body?: string | ArrayBuffer;
  headers?: Record<string, string>;
  throw?: boolean;
}
export interface MockResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | ArrayBuffer | object;
}
type Handler = (req: MockRequest) => MockResponse | Promise<MockResponse>;

/** Every requestUrl call, in order. */
export const requests: MockRequest[] = [];
let handler: Handler = () => {
  throw new Error("net::ERR_CONNECTION_REFUSED");
};

/** Programs requestUrl; a handler that throws simulates a network failure. */
export function setRequestHandler(h: Handler): void {
  handler = h;
  requests.length = 0;
}

function toBuffer(body: MockResponse["body"]): ArrayBuffer {
  if (body instanceof ArrayBuffer) return body;
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  return new TextEncoder().encode(text).buffer as ArrayBuffer;
}

export function requestUrl(req: MockRequest | string): Promise<any> {
  const r = typeof req === "string" ? { url: req } : req;
  requests.push(r);
  return (async () => {
    const res = await handler(r);
    const buf = toBuffer(res.body);
    const out = {
      status: res.status,
      headers: res.headers ?? {},
      arrayBuffer: buf,
      get text() {
        return new TextDecoder().decode(buf);
      },
      get json() {
        return JSON.parse(new TextDecoder().decode(buf)); // throws on non-JSON, as Obsidian's does
      },
    };
    // Obsidian throws for 400+ unless `throw: false`.
    if (r.throw !== false && res.status >= 400) throw new Error(`Request failed, status ${res.status}`);
    return out;
  })();
}

// ---- notices ----------------------------------------------------------------------------------------------

export const notices: Notice[] = [];

export class Notice {
  messages: string[] = [];
  hidden = false;
  noticeEl = new FakeElement();
  constructor(
    public message: string,
    public duration?: number,
  ) {
    this.messages.push(message);
    notices.push(this);
  }
  setMessage(message: string): this {
    this.message = message;
    this.messages.push(message);
    return this;
  }
  hide(): void {
    this.hidden = true;
  }
}

// ---- components and plugin --------------------------------------------------------------------------------

export class Events {
  private handlers: Record<string, Array<(...a: any[]) => any>> = {};
  on(name: string, cb: (...a: any[]) => any): { name: string; cb: (...a: any[]) => any; owner: Events } {
    (this.handlers[name] ??= []).push(cb);
    return { name, cb, owner: this };
  }
  offref(ref: { name: string; cb: (...a: any[]) => any }): void {
    this.handlers[ref.name] = (this.handlers[ref.name] ?? []).filter((f) => f !== ref.cb);
  }
  trigger(name: string, ...args: any[]): void {
    for (const cb of this.handlers[name] ?? []) cb(...args);
  }
  count(name: string): number {
    return (this.handlers[name] ?? []).length;
  }
}

export class Component {
  cleanups: Array<() => void> = [];
  register(cb: () => void): void {
    this.cleanups.push(cb);
  }
  registerEvent(ref: { owner: Events; name: string; cb: (...a: any[]) => any }): void {
    this.cleanups.push(() => ref.owner.offref(ref));
  }
  registerInterval(id: number): number {
    this.cleanups.push(() => clearInterval(id));
    return id;
  }
  registerDomEvent(el: FakeElement, type: string, cb: (evt: any) => void): void {
    el.addEventListener(type, cb);
    this.cleanups.push(() => el.removeEventListener(type, cb));
  }
  onload(): void | Promise<void> {}
  onunload(): void {}
  async load(): Promise<void> {
    await this.onload();
  }
  unload(): void {
    this.onunload();
    for (const c of this.cleanups.splice(0)) c();
  }
}

export class Plugin extends Component {
  commands: any[] = [];
  ribbonIcons: Array<{ icon: string; title: string; callback: (evt: any) => any; el: FakeElement }> = [];
  statusBarItems: FakeElement[] = [];
  settingTabs: PluginSettingTab[] = [];
  editorExtensions: unknown[] = [];
  /** What loadData returns; saveData writes it (JSON round trip, as data.json would). */
  data: unknown = null;
  saveCount = 0;
  constructor(
    public app: any,
    public manifest: any,
  ) {
    super();
  }
  addCommand(cmd: any): any {
    this.commands.push(cmd);
    return cmd;
  }
  addRibbonIcon(icon: string, title: string, callback: (evt: any) => any): FakeElement {
    const el = new FakeElement("div");
    this.ribbonIcons.push({ icon, title, callback, el });
    return el;
  }
  addStatusBarItem(): FakeElement {
    const el = new FakeElement("div");
    this.statusBarItems.push(el);
    return el;
  }
  addSettingTab(tab: PluginSettingTab): void {
    this.settingTabs.push(tab);
  }
  registerEditorExtension(ext: unknown): void {
    this.editorExtensions.push(ext);
  }
  async loadData(): Promise<any> {
    return this.data === null || this.data === undefined ? this.data : JSON.parse(JSON.stringify(this.data));
  }
  async saveData(data: unknown): Promise<void> {
    this.data = JSON.parse(JSON.stringify(data));
    this.saveCount++;
  }
}

export const openedModals: Modal[] = [];

export class Modal {
  contentEl = new FakeElement();
  titleEl = new FakeElement();
  modalEl = new FakeElement();
  isOpen = false;
  constructor(public app: any) {}
  open(): void {
    this.isOpen = true;
    openedModals.push(this);
    void this.onOpen();
  }
  close(): void {
    this.isOpen = false;
    this.onClose();
  }
  onOpen(): void | Promise<void> {}
  onClose(): void {}
  setTitle(t: string): this {
    this.titleEl.setText(t);
    return this;
  }
}

export abstract class SuggestModal<T> extends Modal {
  limit = 100;
  emptyStateText = "";
  placeholder = "";
  inputEl = new FakeElement("input");
  setPlaceholder(p: string): void {
    this.placeholder = p;
  }
  abstract getSuggestions(query: string): T[] | Promise<T[]>;
  abstract renderSuggestion(value: T, el: FakeElement): void;
  abstract onChooseSuggestion(item: T, evt: any): void;
}

export abstract class PluginSettingTab {
  containerEl = new FakeElement();
  constructor(
    public app: any,
    public plugin: any,
  ) {}
  abstract display(): void;
  hide(): void {}
}

class BaseComponent {
  disabled = false;
  changeCb: ((v: any) => any) | null = null;
  value: any = undefined;
  setDisabled(d: boolean): this {
    this.disabled = d;
    return this;
  }
  setValue(v: any): this {
    this.value = v;
    return this;
  }
  getValue(): any {
    return this.value;
  }
  onChange(cb: (v: any) => any): this {
    this.changeCb = cb;
    return this;
  }
  /** Simulates the user changing the control. */
  async change(v: any): Promise<void> {
    this.value = v;
    await this.changeCb?.(v);
  }
}
export class TextComponent extends BaseComponent {
  inputEl = new FakeElement("input");
  placeholder = "";
  setPlaceholder(p: string): this {
    this.placeholder = p;
    return this;
  }
}
export class TextAreaComponent extends TextComponent {}
export class ToggleComponent extends BaseComponent {}
export class SliderComponent extends BaseComponent {
  limits: number[] = [];
  setLimits(min: number, max: number, step: number): this {
    this.limits = [min, max, step];
    return this;
  }
  setDynamicTooltip(): this {
    return this;
  }
}
export class DropdownComponent extends BaseComponent {
  selectEl = new FakeElement("select");
  addOption(value: string, label: string): this {
    this.selectEl.createEl("option", { text: label, attr: { value } });
    return this;
  }
  get options(): string[] {
    return this.selectEl.children.map((c) => c.attrs.value);
  }
}
export class ButtonComponent extends BaseComponent {
  text = "";
  cta = false;
  clickCb: (() => any) | null = null;
  setButtonText(t: string): this {
    this.text = t;
    return this;
  }
  setCta(): this {
    this.cta = true;
    return this;
  }
  onClick(cb: () => any): this {
    this.clickCb = cb;
    return this;
  }
  async click(): Promise<void> {
    await this.clickCb?.();
  }
}

export class Setting {
  settingEl: FakeElement;
  nameEl: FakeElement;
  descEl: FakeElement;
  controlEl: FakeElement;
  components: BaseComponent[] = [];
  heading = false;
  constructor(containerEl: FakeElement) {
    this.settingEl = containerEl.createDiv({ cls: "setting-item" });
    (this.settingEl as any).setting = this;
    this.nameEl = this.settingEl.createDiv({ cls: "setting-item-name" });
    this.descEl = this.settingEl.createDiv({ cls: "setting-item-description" });
    this.controlEl = this.settingEl.createDiv({ cls: "setting-item-control" });
  }
  get name(): string {
    return this.nameEl.getText();
  }
  get desc(): string {
    return this.descEl.getText();
  }
  setName(n: string): this {
    this.nameEl.setText(n);
    return this;
  }
  setDesc(d: string): this {
    this.descEl.setText(d);
    return this;
  }
  setHeading(): this {
    this.heading = true;
    return this;
  }
  setClass(c: string): this {
    this.settingEl.addClass(c);
    return this;
  }
  private add<C extends BaseComponent>(c: C, cb: (c: C) => any): this {
    this.components.push(c);
    cb(c);
    return this;
  }
  addText(cb: (c: TextComponent) => any): this {
    return this.add(new TextComponent(), cb);
  }
  addTextArea(cb: (c: TextAreaComponent) => any): this {
    return this.add(new TextAreaComponent(), cb);
  }
  addToggle(cb: (c: ToggleComponent) => any): this {
    return this.add(new ToggleComponent(), cb);
  }
  addDropdown(cb: (c: DropdownComponent) => any): this {
    return this.add(new DropdownComponent(), cb);
  }
  addSlider(cb: (c: SliderComponent) => any): this {
    return this.add(new SliderComponent(), cb);
  }
  addButton(cb: (c: ButtonComponent) => any): this {
    return this.add(new ButtonComponent(), cb);
  }
}

/** The Setting objects created inside `el`, in order. */
export function settingsIn(el: FakeElement): Setting[] {
  return el.findAll("setting-item").map((e) => (e as any).setting as Setting);
}

export class MenuItem {
  title = "";
  icon = "";
  checked = false;
  cb: (() => any) | null = null;
  setTitle(t: string): this {
    this.title = t;
    return this;
  }
  setIcon(i: string): this {
    this.icon = i;
    return this;
  }
  setChecked(c: boolean): this {
    this.checked = c;
    return this;
  }
  onClick(cb: () => any): this {
    this.cb = cb;
    return this;
  }
}

export const shownMenus: Menu[] = [];

export class Menu {
  items: MenuItem[] = [];
  addItem(cb: (item: MenuItem) => any): this {
    const item = new MenuItem();
    cb(item);
    this.items.push(item);
    return this;
  }
  showAtMouseEvent(): this {
    shownMenus.push(this);
    return this;
  }
}

// ---- files and views --------------------------------------------------------------------------------------

export class TAbstractFile {
  vault: any;
  path = "";
  name = "";
  parent: TFolder | null = null;
}

export class TFolder extends TAbstractFile {
  children: TAbstractFile[] = [];
  constructor(path: string) {
    super();
    this.path = path;
    this.name = path.split("/").pop() ?? path;
  }
}

export class TFile extends TAbstractFile {
  basename: string;
  extension: string;
  stat = { ctime: 0, mtime: 0, size: 0 };
  constructor(path: string, parent: TFolder | null = null) {
    super();
    this.path = path;
    this.name = path.split("/").pop() ?? path;
    const dot = this.name.lastIndexOf(".");
    this.basename = dot > 0 ? this.name.slice(0, dot) : this.name;
    this.extension = dot > 0 ? this.name.slice(dot + 1) : "";
    this.parent = parent;
  }
}

export class MarkdownView {
  constructor(
    public editor: any,
    public file: TFile | null,
  ) {}
  getViewType(): string {
    return "markdown";
  }
}
