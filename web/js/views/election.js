// Election day (docs/elections.md, turnout.mark): batches of serials marked and undone, turnout by
// hour (stats.read), the get-out-the-vote list. Two requests to show, one a batch.
import { graphql } from "../api.js";
import { barChart } from "../charts.js";
import { field, fill, h } from "../dom.js";
import { dateOnly, label, nameOf, num, percent, t } from "../i18n.js";
import { href } from "../router.js";
import { can, session } from "../session.js";
import { empty, pager, showError } from "./common.js";

const ELECTIONS = `query Elections { elections { code name nameHi phases { unit { code name nameHi } pollDate } } }`;
const DAY = (turnout) => `query ElectionDay($election: String!, $unit: String!, $after: String) {
  ${turnout ? "turnout(election: $election, unit: $unit) { voted eligible byHour { key count } }" : ""}
  getOutTheVote(election: $election, unit: $unit, first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { serialNumber name nameHi age gender phone } } } }`;
const MARK = `mutation Mark($booth: String!, $serials: [Int!]!) { markVoted(booth: $booth, serials: $serials) { marked alreadyMarked unknownSerials } }`;
const UNDO = `mutation Undo($booth: String!, $serials: [Int!]!) { undoVoted(booth: $booth, serials: $serials) { undone expired } }`;
const LAST = "boothgraph.lastBatch";

export async function electionView(main, route, view) {
  const booths = [...new Map(session.me.assignments.filter((a) => a.unit.level === "BOOTH" && !a.page).map((a) => [a.unit.code, a.unit])).values()];
  const { elections } = await graphql(ELECTIONS);
  if (!view.isCurrent()) return;
  const code = route.query.get("election") || (elections[0] && elections[0].code);
  const booth = route.query.get("booth") || (booths[0] && booths[0].code);
  const election = elections.find((e) => e.code === code);
  if (!election || !booth) { fill(main, h("h1", {}, t("election.title")), empty(t("election.none"))); return; }
  const data = await graphql(DAY(can("stats.read")), { election: code, unit: booth, after: route.query.get("after") });
  if (!view.isCurrent()) return;
  const phase = election.phases[0];
  // more than one election or booth: links to the others (the route names both)
  const other = (list, key, text) => (list.length > 1 ? h("p", { class: "figures-line" }, list.map((x) => h("a", {
    class: "pill", href: href("election", null, { election: code, booth, [key]: x.code }), "aria-current": x.code === (key === "booth" ? booth : code) ? "true" : null }, text(x)))) : null);
  const pages = () => pager("election", null, route.query, data.getOutTheVote.pageInfo);
  fill(main, h("h1", {}, t("election.title"), " ", h("small", {}, nameOf(election))),
    phase ? h("p", {}, t("rules.poll", { unit: nameOf(phase.unit), code: phase.unit.code, date: dateOnly(phase.pollDate) })) : null,
    other(elections, "election", nameOf), other(booths, "booth", (b) => `${nameOf(b)} · ${b.code}`),
    doneNotice(route.query.get("done")), markForm(booth, data.getOutTheVote, route, view), pages(),
    data.turnout ? turnoutPanel(data.turnout) : null, gotvList(data.getOutTheVote), pages());
}

/** "12 13 40-45" and the tapped serials -> one sorted batch of at most 100. */
function batchOf(text, tapped) {
  const out = new Set(tapped);
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const [a, b = a] = part.split("-").map(Number);
    for (let s = a; Number.isInteger(a) && s > 0 && s <= Math.min(b, a + 99); s++) out.add(s);
  }
  return [...out].sort((x, y) => x - y).slice(0, 100);
}

function markForm(booth, gotv, route, view) {
  const tapped = new Set();
  const typed = h("input", { name: "serials", inputmode: "numeric", autocomplete: "off" });
  const box = h("div");
  const chosen = h("p", { id: "mark-chosen", role: "status" });
  const show = () => { chosen.textContent = t("election.chosen", { n: num(batchOf(typed.value, tapped).length) }); };
  typed.addEventListener("input", show);
  const pad = h("div", { class: "serial-pad", role: "group", "aria-label": t("election.tap") },
    gotv.edges.map((e) => e.node.serialNumber).sort((a, b) => a - b).map((serial) => h("button", {
      type: "button", class: "serial", "aria-pressed": "false", "data-serial": serial, onclick: (e) => {
        if (!tapped.delete(serial)) tapped.add(serial);
        e.currentTarget.setAttribute("aria-pressed", String(tapped.has(serial)));
        show();
      } }, String(serial))));
  const form = h("form", { class: "card", id: "mark" }, h("h2", {}, t("election.mark")), h("p", {}, t("election.tap")), pad,
    field(t("election.serials"), typed, t("election.serialsHint")), chosen, box,
    h("button", { type: "submit", class: "primary big" }, t("election.markDo")));
  show();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const serials = batchOf(typed.value, tapped);
    if (!serials.length) { fill(box, h("p", { class: "error", role: "alert" }, t("election.noneChosen"))); return; }
    try {
      const r = (await graphql(MARK, { booth, serials })).markVoted;
      sessionStorage.setItem(LAST, JSON.stringify({ booth, serials }));
      // the result as numbers in the address: it then reads in whichever language is chosen
      const next = href("election", null, { ...Object.fromEntries(route.query), done: [r.marked, r.alreadyMarked.length, r.unknownSerials.join(" ")].join("/") });
      if (location.hash === next) view.rerender(); else location.hash = next;
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") showError(error, form, box);
    }
  });
  return form;
}

/** The last batch's result, and its undo (marks younger than the window go; older ones stay). */
function doneNotice(done) {
  if (!done) return null;
  const [marked, already, unknown] = done.split("/");
  const last = sessionStorage.getItem(LAST);
  const out = h("div", { class: "notice ok", role: "status", id: "mark-done" },
    h("p", {}, unknown ? t("election.marked", { n: num(+marked), already: num(+already), unknown: unknown.split(" ").join(", ") })
      : t("election.markedAll", { n: num(+marked), already: num(+already) })));
  if (last) out.append(h("button", { type: "button", class: "secondary", id: "undo-batch", onclick: async (e) => {
    e.currentTarget.disabled = true;
    try {
      const r = (await graphql(UNDO, JSON.parse(last))).undoVoted;
      sessionStorage.removeItem(LAST);
      fill(out, h("p", {}, t("election.undone", { n: num(r.undone), expired: r.expired.join(", ") || "—" })));
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") showError(error, null, out);
    }
  } }, t("election.undo")));
  return out;
}

function turnoutPanel(turnout) {
  const hours = ["07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17"];
  return h("section", { class: "card", id: "turnout" }, h("h2", {}, t("election.turnout")),
    h("p", { class: "pill" }, t("election.voted", { voted: num(turnout.voted), eligible: num(turnout.eligible), pct: percent(turnout.voted, turnout.eligible) })),
    barChart(t("election.byHour"), hours.map((x) => ({ label: `${x}:00`, count: (turnout.byHour.find((b) => b.key === x) || { count: 0 }).count })), { total: turnout.voted }));
}

function gotvList(gotv) {
  return h("section", { id: "gotv" }, h("h2", {}, t("election.gotv"), " ", h("small", {}, `(${num(gotv.totalCount)})`)),
    gotv.edges.length ? h("ol", { class: "gotv-list" }, gotv.edges.map(({ node: v }) => h("li", {},
      h("span", {}, h("strong", {}, nameOf(v)), h("small", { class: "code" }, `${t("election.serial")} ${v.serialNumber} · ${label("gender", v.gender)} · ${v.age}`)),
      /^\d+$/.test(v.phone || "") ? h("a", { class: "button secondary", href: `tel:${v.phone}` }, t("election.call")) : null)))
      : empty(t("election.allVoted")));
}
