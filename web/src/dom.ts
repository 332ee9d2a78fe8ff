/** A tiny element builder and the panel frame every section uses (loading / error / content). */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = String(v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

/** An external link that opens safely in a new tab. */
export function extLink(href: string, text: string, label?: string): HTMLAnchorElement {
  return h("a", { href, target: "_blank", rel: "noopener noreferrer", "aria-label": label }, text);
}

/** A definition list from [term, value] pairs. */
export function facts(rows: [string, Child | Child[], string?][]): HTMLDListElement {
  return h(
    "dl",
    { class: "facts" },
    rows.map(([k, v, title]) => h("div", null, h("dt", null, k), h("dd", { title }, v))),
  );
}

export interface Column<T> {
  label: string;
  cell: (row: T) => Child | Child[];
  num?: boolean;
}

export function table<T>(caption: string, cols: Column<T>[], rows: T[], empty = "Nothing yet."): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    h(
      "table",
      null,
      h("caption", { class: "sr-only" }, caption),
      h("thead", null, h("tr", null, cols.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
      h(
        "tbody",
        null,
        rows.map((r) => h("tr", null, cols.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(r))))),
      ),
    ),
  );
}

export interface Panel {
  el: HTMLElement;
  body: HTMLElement;
  loading(): void;
  error(message: string, retry?: () => void): void;
  show(...content: (Child | Child[])[]): void;
}

let panelSeq = 0;

/** A titled section with the three states every panel has: loading, error, content. */
export function panel(title: string, cls = ""): Panel {
  const id = `panel-${++panelSeq}`;
  const body = h("div", { class: "panel-body" });
  const el = h("section", { class: `panel ${cls}`.trim(), "aria-labelledby": id }, h("h2", { id }, title), body);
  const p: Panel = {
    el,
    body,
    loading() {
      el.setAttribute("aria-busy", "true");
      el.dataset.state = "loading";
      body.replaceChildren(h("p", { class: "loading", role: "status" }, "Loading…"));
    },
    error(message, retry) {
      el.removeAttribute("aria-busy");
      el.dataset.state = "error";
      body.replaceChildren(
        h(
          "div",
          { class: "error", role: "alert" },
          h("p", null, message),
          retry ? h("button", { type: "button", onclick: () => retry() }, "Try again") : null,
        ),
      );
    },
    show(...content) {
      el.removeAttribute("aria-busy");
      el.dataset.state = "ready";
      body.replaceChildren();
      append(body, content);
    },
  };
  p.loading();
  return p;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Resolves just after the next frame is painted (a message posted from a
 * requestAnimationFrame callback runs after that frame's layout and paint), or after
 * 200 ms where no frame comes (a hidden tab, a test DOM). */
export function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 200);
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        clearTimeout(timer);
        resolve();
      };
      ch.port2.postMessage(null);
    });
  });
}
