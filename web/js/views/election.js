// Election day (docs/elections.md), for holders of turnout.mark: mark who has voted in batches of
// serials (tapped from the roll or typed), undo a batch within the window, the live turnout by
// hour (SVG, with stats.read) and the get-out-the-vote list as a call list. One request to show
// (two at the first visit: which elections there are), one per batch.
import { graphql } from "../api.js";
import { barChart } from "../charts.js";
import { clearErrors, field, fill, h, options } from "../dom.js";
import { dateOnly, label, nameOf, num, percent, t } from "../i18n.js";
import { go, href } from "../router.js";
import { can, session } from "../session.js";
import { empty, showError } from "./common.js";

const ELECTIONS = `query Elections { elections { code name nameHi phases { unit { code name nameHi level } pollDate } } }`;
const DAY = (withTurnout) => `query ElectionDay($election: String!, $unit: String!) {
  ${withTurnout ? "turnout(election: $election, unit: $unit) { voted eligible byHour { key count } suppressed }" : ""}
  getOutTheVote(election: $election, unit: $unit, first: 100) { totalCount
    edges { node { epicNumber serialNumber name nameHi age gender phone } } }
}`;
const MARK = `mutation Mark($booth: String!, $serials: [Int!]!) { markVoted(booth: $booth, serials: $serials) { marked alreadyMarked unknownSerials } }`;
const UNDO = `mutation Undo($booth: String!, $serials: [Int!]!) { undoVoted(booth: $booth, serials: $serials) { undone expired notMarked } }`;
const HOURS = ["07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17"];
const BATCH = 100;

export async function electionView(main, route, view) {
  const booths = [...new Map(session.me.assignments.filter((a) => a.unit.level === "BOOTH" && !a.page).map((a) => [a.unit.code, a.unit])).values()];
  const elections = (await graphql(ELECTIONS)).elections;
  if (!view.isCurrent()) return;
  const code = route.query.get("election") || (elections[0] && elections[0].code);
  const booth = route.query.get("booth") || (booths[0] && booths[0].code);
  const election = elections.find((e) => e.code === code);
  if (!election || !booth) {
    fill(main, h("h1", {}, t("election.title")), empty(t("election.none")));
    return;
  }
  const data = await graphql(DAY(can("stats.read")), { election: code, unit: booth });
  if (!view.isCurrent()) return;
  const phase = election.phases[0];
  const pick = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); const f = new FormData(pick); go("election", null, { election: f.get("election"), booth: f.get("booth") }); } },
    h("div", { class: "filter-grid" },
      field(t("election.election"), h("select", { name: "election" }, options(elections.map((e) => [e.code, nameOf(e)]), code))),
      field(t("election.booth"), h("select", { name: "booth" }, options(booths.map((b) => [b.code, `${nameOf(b)} (${b.code})`]), booth)))),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "secondary" }, t("team.show"))));
  fill(main,
    h("h1", {}, t("election.title"), " ", h("small", {}, nameOf(election))),
    phase ? h("p", { class: "note" }, t("rules.poll", { unit: nameOf(phase.unit), code: phase.unit.code, date: dateOnly(phase.pollDate) })) : null,
    elections.length > 1 || booths.length > 1 ? pick : null,
    markForm(booth, data.getOutTheVote, view),
    data.turnout ? turnoutPanel(data.turnout) : null,
    gotvList(data.getOutTheVote));
}

/** Serials tapped from the not-yet-voted list or typed ("12 13 40-45"), sent as one batch. */
function markForm(booth, gotv, view) {
  const chosen = new Set();
  const typed = h("input", { name: "serials", inputmode: "numeric", autocomplete: "off", placeholder: "12 13 40-45" });
  const box = h("div");
  const tapped = h("p", { class: "note", id: "mark-chosen", role: "status" });
  const show = () => { tapped.textContent = t("election.chosen", { n: num(serials().length) }); };
  const serials = () => {
    const out = new Set(chosen);
    for (const part of typed.value.split(/[\s,]+/).filter(Boolean)) {
      const [a, b] = part.split("-").map(Number);
      if (Number.isInteger(a) && a > 0) for (let s = a; s <= (Number.isInteger(b) && b >= a ? Math.min(b, a + BATCH) : a); s++) out.add(s);
    }
    return [...out].sort((x, y) => x - y);
  };
  typed.addEventListener("input", show);
  const pad = h("div", { class: "serial-pad", role: "group", "aria-label": t("election.tap") },
    [...gotv.edges].sort((a, b) => a.node.serialNumber - b.node.serialNumber).map(({ node }) => h("button", { type: "button", class: "serial", "aria-pressed": "false", "data-serial": node.serialNumber,
      onclick: (e) => {
        const on = !chosen.has(node.serialNumber);
        if (on) chosen.add(node.serialNumber); else chosen.delete(node.serialNumber);
        e.currentTarget.setAttribute("aria-pressed", String(on));
        show();
      } }, String(node.serialNumber))));
  const form = h("form", { class: "card", id: "mark" },
    h("h2", {}, t("election.mark")), h("p", { class: "note" }, t("election.tap")), pad,
    field(t("election.serials"), typed, t("election.serialsHint")), tapped, box,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary big" }, t("election.markDo"))));
  show();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const batch = serials().slice(0, BATCH);
    if (!batch.length) { fill(box, h("p", { class: "error", role: "alert" }, t("election.noneChosen"))); return; }
    try {
      const r = (await graphql(MARK, { booth, serials: batch })).markVoted;
      sessionStorage.setItem("boothgraph.lastBatch", JSON.stringify({ booth, serials: batch }));
      // the result as numbers in the address, so that it reads in whichever language is chosen
      const next = href("election", null, { ...Object.fromEntries(new URLSearchParams(location.hash.split("?")[1] || "")),
        done: [r.marked, r.alreadyMarked.length, r.unknownSerials.join(" ")].join("/") });
      if (location.hash === next) view.rerender(); else location.hash = next;
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") showError(error, form, box);
    }
  });
  return h("div", {}, doneNotice(), form);
}

/** The last batch's result, and its undo (marks younger than the window go; older ones stay). */
function doneNotice() {
  const message = new URLSearchParams(location.hash.split("?")[1] || "").get("done");
  const last = JSON.parse(sessionStorage.getItem("boothgraph.lastBatch") || "null");
  if (!message) return null;
  const [marked, already, unknown] = message.split("/");
  const out = h("div", { class: "notice ok", role: "status", id: "mark-done" },
    h("p", {}, t("election.marked", { n: num(Number(marked)), already: num(Number(already)), unknown: unknown ? unknown.split(" ").join(", ") : "—" })));
  if (last) {
    out.append(h("button", { type: "button", class: "secondary", id: "undo-batch", onclick: async (e) => {
      e.currentTarget.disabled = true;
      try {
        const r = (await graphql(UNDO, last)).undoVoted;
        sessionStorage.removeItem("boothgraph.lastBatch");
        fill(out, h("p", {}, t("election.undone", { n: num(r.undone), expired: r.expired.join(", ") || "—" })));
      } catch (error) {
        if (error.code !== "UNAUTHENTICATED") showError(error, null, out);
      }
    } }, t("election.undo")));
  }
  return out;
}

function turnoutPanel(turnout) {
  const rows = HOURS.map((hour) => ({ label: `${hour}:00`, count: (turnout.byHour.find((b) => b.key === hour) || { count: 0 }).count }));
  return h("section", { class: "card", id: "turnout" },
    h("h2", {}, t("election.turnout")),
    h("p", { class: "figures-line" }, h("span", { class: "pill" }, t("election.voted", { voted: num(turnout.voted), eligible: num(turnout.eligible), pct: percent(turnout.voted, turnout.eligible) }))),
    barChart(t("election.byHour"), rows, { total: turnout.voted }));
}

function gotvList(gotv) {
  return h("section", { id: "gotv" },
    h("h2", {}, t("election.gotv"), " ", h("small", {}, `(${num(gotv.totalCount)})`)),
    gotv.edges.length ? h("ol", { class: "gotv-list" }, gotv.edges.map(({ node }) => h("li", {},
      h("span", {}, h("strong", {}, nameOf(node)), h("small", { class: "code" }, `${t("election.serial")} ${node.serialNumber} · ${label("gender", node.gender)} · ${node.age ?? ""}`)),
      node.phone && /^\d+$/.test(node.phone) ? h("a", { class: "tel button secondary", href: `tel:${node.phone}` }, t("election.call")) : null)))
      : empty(t("election.allVoted")));
}
