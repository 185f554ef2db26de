/** The element with `id`, which the page's HTML has. */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** A table row of cells holding `texts` (text only: nothing the machine says is parsed as HTML). */
export function row(texts: ReadonlyArray<string | number>, className = ""): HTMLTableRowElement {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const text of texts) {
    const td = document.createElement("td");
    td.textContent = String(text);
    tr.append(td);
  }
  return tr;
}

export function button(label: string, title: string, onClick: () => void): HTMLButtonElement {
  const element = document.createElement("button");
  element.textContent = label;
  element.title = title;
  element.addEventListener("click", (event) => {
    event.stopPropagation();
    onClick();
  });
  return element;
}
