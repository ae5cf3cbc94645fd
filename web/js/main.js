// The app's shell: sign-in, the viewer, the sections the viewer's permissions allow, the
// language switch, and one view per hash route.
import { graphql } from "./api.js";
import { fill, h } from "./dom.js";
import { errorText, getLang, label, nameOf, setLang, setMinCell, t } from "./i18n.js";
import { current, href } from "./router.js";
import { can, session, signIn, signOut } from "./session.js";
import { AREA_FIELDS, prefetch } from "./views/area.js";
import { printButtons } from "./views/common.js";

const ME_QUERY = `query Me { me { id name permissions
  assignments { id role page unit { code name nameHi level } } roots { code name nameHi level } } statsPolicy { minCellSize } }`;
// On a first load at the start route, the dashboard of the first root comes with the viewer: one
// round trip instead of two (the dashboard is most officials' start view).
const ME_HOME_QUERY = `query MeHome { me { id name permissions
  assignments { id role page unit { code name nameHi level } } roots { ${AREA_FIELDS} } } schemes { code name nameHi } statsPolicy { minCellSize } }`;

/** route name -> [its view, loaded when first needed; catalogue key of its tab (null: no tab);
 * permissions that open it]. The dashboard's modules are preloaded by index.html. */
const ROUTES = {
  unit: [() => import("./views/area.js").then((m) => m.areaView), "nav.area", ["stats.read"]],
  voters: [() => import("./views/voters.js").then((m) => m.votersView), "nav.voters", ["voter.read"]],
  voter: [() => import("./views/voter.js").then((m) => m.voterView), null, ["voter.read"]],
  calls: [() => import("./views/calls.js").then((m) => m.callsView), "nav.calls", ["outreach.call"]],
  campaigns: [() => import("./views/campaigns.js").then((m) => m.campaignsView), "nav.campaigns", ["outreach.manage"]],
  team: [() => import("./views/team.js").then((m) => m.teamView), "nav.team", ["role.grant"]],
  data: [() => import("./views/data.js").then((m) => m.dataView), "nav.data", ["data.import", "data.export"]],
  audit: [() => import("./views/audit.js").then((m) => m.auditView), "nav.audit", ["audit.read"]],
  election: [() => import("./views/election.js").then((m) => m.electionView), "nav.election", ["turnout.mark"]],
  rules: [() => import("./views/rules.js").then((m) => m.rulesView), "nav.rules", []],
  // open to everyone signed in: the API decides what each query may do
  console: [() => import("./views/console.js").then((m) => m.consoleView), "nav.console", []],
};
const signInView = () => import("./views/signin.js").then((m) => m.signInView);

const main = document.getElementById("main");
let renders = 0;
let signInMessage = "";

export function setStatus(message, kind = "info") {
  const status = document.getElementById("status");
  status.textContent = message || "";
  status.className = `status ${message ? kind : ""}`;
}

function opens(name) { return ROUTES[name][2].length === 0 || ROUTES[name][2].some(can); }

function home() {
  const root = session.me.roots[0];
  if (root && can("stats.read")) return href("unit", root.code);
  if (can("outreach.call")) return href("calls");
  if (session.me.assignments.some((a) => a.page)) return null;  // a page in-charge: their pages to print
  if (root && can("voter.read")) return href("voters", root.code);
  const first = Object.keys(ROUTES).find((name) => ROUTES[name][1] && ROUTES[name][2].length && opens(name));
  return first ? href(first) : null;
}

function shell() {
  document.title = t("app.title");
  document.getElementById("skip-link").textContent = t("app.skip");
  const switcher = document.getElementById("lang-switch");
  switcher.textContent = getLang() === "hi" ? "English" : "हिन्दी";
  switcher.lang = getLang() === "hi" ? "en" : "hi";
  switcher.setAttribute("aria-label", t("lang.switch"));
  const out = document.getElementById("sign-out");
  out.textContent = t("signout");
  out.hidden = !session.me;
  const tabs = document.getElementById("tabs");
  const who = document.getElementById("who");
  if (!session.me) { tabs.hidden = true; who.textContent = ""; return; }
  const roles = [...new Set(session.me.assignments.map((a) => label("role", a.role)))];
  fill(who, h("strong", {}, session.me.name), " · ", roles.join(", "));
  tabs.setAttribute("aria-label", t("nav.label"));
  const route = current().name;
  const root = session.me.roots[0];
  const links = Object.entries(ROUTES).filter(([name, [, key]]) => key && opens(name)).map(([name, [, key]]) => {
    const arg = (name === "unit" || name === "voters") && root ? root.code : undefined;
    const active = route === name || (name === "voters" && route === "voter");
    return h("a", { href: href(name, arg), "aria-current": active ? "page" : null }, t(key));
  });
  fill(tabs, links);
  tabs.hidden = links.length === 0;
}

async function render() {
  const mine = ++renders;
  setStatus("");
  shell();
  if (!session.me) {
    (await signInView())(main, { message: signInMessage, onToken: start });
    return;
  }
  const route = current();
  if (!route.name) {
    const target = home();
    if (target) { location.replace(target); return; }
    // A page in-charge sees no unit: their roll pages, to print (docs/pages.md).
    const pages = session.me.assignments.filter((a) => a.page);
    fill(main, pages.length
      ? [h("h1", {}, t("home.pages")), h("ul", { class: "pages" }, pages.map((a) => h("li", {},
        h("p", {}, t("home.pageOf", { page: a.page, unit: nameOf(a.unit), level: label("level", a.unit.level), code: a.unit.code })),
        printButtons(a.unit.code, a.page))))]
      : h("p", { class: "empty" }, t("home.nothing")));
    return;
  }
  const entry = ROUTES[route.name];
  if (!entry || !opens(route.name)) {
    fill(main, h("p", { class: "empty" }, t("route.unknown")), h("p", {}, h("a", { href: "#/" }, t("route.home"))));
    return;
  }
  main.setAttribute("aria-busy", "true");
  try {
    const view = await entry[0]();
    if (mine !== renders) return;
    await view(main, route, { isCurrent: () => mine === renders, setStatus, rerender: render });
  } catch (error) {
    if (mine !== renders || !session.me) return;
    fill(main, h("p", { class: "error", role: "alert" }, errorText(error)));
  } finally {
    main.removeAttribute("aria-busy");
  }
  if (mine === renders && document.activeElement === document.body) main.focus({ preventScroll: true });
}

async function start(token) {
  if (token) signIn(token);
  signInMessage = "";
  if (!session.token) { render(); return; }
  try {
    const home = !current().name;
    const data = await graphql(home ? ME_HOME_QUERY : ME_QUERY);
    session.me = data.me;
    setMinCell(data.statsPolicy.minCellSize);
    if (home && can("stats.read")) prefetch(session.me.roots[0], data.schemes);
  } catch (error) {
    if (error.code !== "UNAUTHENTICATED") signInMessage = errorText(error);
    session.me = null;
  }
  render();
}

window.addEventListener("hashchange", () => {
  if (takeTokenFromLink()) start();
  else if (session.me) render();
});
window.addEventListener("boothgraph:signed-out", () => {
  signInMessage = t("session.expired");
  render();
});
document.getElementById("lang-switch").addEventListener("click", () => {
  setLang(getLang() === "hi" ? "en" : "hi");
  render();
});
document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  signInMessage = t("session.signedOut");
  history.replaceState(null, "", location.pathname);
  render();
});

// A token in the fragment (#token=…) never reaches the server's logs: kept for this tab, then
// taken out of the address bar.
function takeTokenFromLink() {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!fromLink) return false;
  signIn(fromLink);
  session.me = null;
  history.replaceState(null, "", `${location.pathname}#/`);
  return true;
}

setLang(getLang());
takeTokenFromLink();
start();
