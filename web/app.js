// A small page for officials: who am I, my area's composition, the units and voters below.
// Everything goes through /graphql with the viewer's own token, so the page shows exactly
// the slice the policy grants (masked phones, suppressed counts and all).
"use strict";

const UNIT_QUERY = `query Unit($code: String!) {
  unit(code: $code) {
    code name nameHi level
    path { code name }
    stats { voters withPhone contactable surveyed suppressed byCasteCategory { key count } }
    children(first: 100) { totalCount edges { node { code name level } } }
    voters(first: 20) { totalCount edges { node { serialNumber name age gender phone } } }
  }
}`;
const ME_QUERY = `{ me { id name permissions assignments { role page unit { code name level } } roots { code } } }`;

let token = "";

async function graphql(query, variables) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const code = body.errors[0].extensions && body.errors[0].extensions.code;
    throw new Error(`${body.errors[0].message}${code ? ` (${code})` : ""}`);
  }
  return body.data;
}

function text(id, value) { document.getElementById(id).textContent = value; }

function setStatus(message, isError) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.className = isError ? "error" : "";
}

function fillRows(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      td.textContent = cell === null || cell === undefined ? "—" : String(cell);
      tr.appendChild(td);
    }
    return tr;
  }));
}

// The printed walk list or voter slips of a booth or one of its roll pages (docs/pages.md),
// fetched with the token (a plain link would not carry it) and handed to the browser as a file.
async function printout(kind, code, page) {
  const params = new URLSearchParams({ unit: code });
  if (page) params.set("page", String(page));
  const response = await fetch(`/export/${kind}.pdf?${params}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    setStatus((body.errors && body.errors[0].message) || `HTTP ${response.status}`, true);
    return;
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await response.blob());
  a.download = `${kind}-${code}${page ? "-P" + String(page).padStart(2, "0") : ""}.pdf`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

function printButtons(code, page) {
  return [["walklist", "Walk list (PDF)"], ["slips", "Voter slips (PDF)"]].map(([kind, label]) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = page ? `${label}, page ${page}` : label;
    button.dataset.printout = `${kind}:${code}${page ? ":" + page : ""}`;
    button.addEventListener("click", () => printout(kind, code, page));
    return button;
  });
}

function link(label, code) {
  const a = document.createElement("a");
  a.textContent = label;
  a.dataset.code = code;
  a.addEventListener("click", () => showUnit(code));
  return a;
}

async function showUnit(code) {
  const { unit } = await graphql(UNIT_QUERY, { code });
  if (!unit) { setStatus(`${code} is not in your area.`, true); return; }
  document.getElementById("unit").hidden = false;
  text("unit-name", `${unit.name}${unit.nameHi ? " · " + unit.nameHi : ""} (${unit.level})`);
  const crumbs = document.getElementById("crumbs");
  crumbs.replaceChildren(...unit.path.flatMap((p) => [link(p.name, p.code), document.createTextNode(" › ")]));
  const stats = document.getElementById("unit-stats");
  stats.replaceChildren(...[["voters", unit.stats.voters], ["with phone", unit.stats.withPhone],
    ["contactable", unit.stats.contactable], ["surveyed", unit.stats.surveyed]].flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = String(v); dd.dataset.stat = k;
    return [dt, dd];
  }));
  text("suppressed", unit.stats.suppressed ? "(small counts withheld)" : "");
  fillRows("by-caste-category", unit.stats.byCasteCategory.map((b) => [b.key, b.count]));
  const children = document.getElementById("children");
  children.replaceChildren(...unit.children.edges.map(({ node }) => {
    const li = document.createElement("li");
    li.appendChild(link(`${node.name} (${node.code})`, node.code));
    return li;
  }));
  document.getElementById("printouts").replaceChildren(...(unit.level === "BOOTH" ? printButtons(unit.code, null) : []));
  fillRows("voters", unit.voters.edges.map(({ node }) => [node.serialNumber, node.name, node.age, node.gender, node.phone]));
  setStatus(`${unit.code}: ${unit.stats.voters} voters`, false);
}

async function open() {
  try {
    const { me } = await graphql(ME_QUERY);
    document.getElementById("viewer").hidden = false;
    text("viewer-name", `${me.name} (${me.id})`);
    text("permissions", me.permissions.join(", ") || "none");
    document.getElementById("assignments").replaceChildren(...me.assignments.map((a) => {
      const li = document.createElement("li");
      li.textContent = `${a.role} — ${a.unit.name} (${a.page ? "page " + a.page + " of " : ""}${a.unit.level})`;
      if (a.page) li.append(" ", ...printButtons(a.unit.code, a.page));  // a page in-charge prints their page
      return li;
    }));
    if (me.roots.length) await showUnit(me.roots[0].code);
    else setStatus("You hold no assignment with units to show.", false);
  } catch (error) {
    setStatus(error.message, true);
  }
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  token = document.getElementById("token").value.trim();
  open();
});

// A token in the fragment (#token=…) never reaches the server's logs; handy for links from the CLI.
const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromFragment) { token = fromFragment; history.replaceState(null, "", location.pathname); open(); }
