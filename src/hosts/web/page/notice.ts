import { byId } from "./dom.ts";

export interface NoticeAction {
  readonly label: string;
  readonly run: () => void;
}

/**
 * A message over the page that a person must read: the disk refused, no JSPI, the machine halted.
 * Text only (what the machine says is never parsed as HTML), with buttons for what can be done.
 */
export function showNotice(title: string, text: string, actions: readonly NoticeAction[] = [], kind: "error" | "info" = "error"): void {
  const notice = byId("notice");
  const heading = document.createElement("h2");
  heading.textContent = title;
  const body = document.createElement("p");
  body.textContent = text;
  const buttons = document.createElement("div");
  for (const action of actions) {
    const button = document.createElement("button");
    button.textContent = action.label;
    button.addEventListener("click", () => {
      hideNotice();
      action.run();
    });
    buttons.append(button);
  }
  notice.className = kind;
  notice.replaceChildren(heading, body, buttons);
  notice.hidden = false;
}

export function hideNotice(): void {
  byId("notice").hidden = true;
}
