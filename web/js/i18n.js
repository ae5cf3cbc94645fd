// Messages come from the catalogues (one file per language); numbers use Indian digit grouping.
import en from "./messages/en.js";
import hi from "./messages/hi.js";

const CATALOGUES = { en, hi };
const LANG_KEY = "boothgraph.lang";
let lang = localStorage.getItem(LANG_KEY) === "hi" ? "hi" : "en";

export function getLang() { return lang; }

export function setLang(next) {
  lang = next === "hi" ? "hi" : "en";
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang;
}

// MIN_CELL_SIZE as the server reports it (statsPolicy, read with the viewer): "fewer than {minCell}"
let minCell = 5;
export function setMinCell(n) { if (Number.isInteger(n) && n > 0) minCell = n; }

/** The message `key` in the current language, with {name} placeholders filled ({minCell} always). */
export function t(key, params = {}) {
  const text = CATALOGUES[lang][key] ?? CATALOGUES.en[key] ?? key;
  const all = { minCell, ...params };
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in all ? String(all[name]) : `{${name}}`));
}

/** 12345678 -> "1,23,45,678" (lakh and crore grouping), in both languages. */
export function num(value) {
  if (value === null || value === undefined) return "—";
  const sign = value < 0 ? "-" : "";
  const digits = String(Math.trunc(Math.abs(value)));
  if (digits.length <= 3) return sign + digits;
  const head = digits.slice(0, -3).replace(/\B(?=(\d{2})+$)/g, ",");
  return `${sign}${head},${digits.slice(-3)}`;
}

/** A count of a breakdown: null means suppressed, never 0 or blank. */
export function count(value) { return value === null ? t("suppressed") : num(value); }

export function percent(part, whole) {
  if (!whole || part === null) return "";
  return `${Math.round((100 * part) / whole)}%`;
}

/** A unit's or voter's name in the chosen language (nameHi in Hindi mode, when there is one). */
export function nameOf(thing) {
  return lang === "hi" && thing.nameHi ? thing.nameHi : thing.name;
}

/** The label of an enum value, e.g. label("gender", "FEMALE"); unknown values are shown as they are. */
export function label(kind, value) {
  if (value === null || value === undefined) return "—";
  const key = `${kind}.${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

/** The words for an API error: its code's message, then the server's own detail. */
export function errorText(error) {
  const code = error.code || "INTERNAL_SERVER_ERROR";
  return t(`error.${code}`) === `error.${code}` ? error.message : t(`error.${code}`);
}

export function dateTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang === "hi" ? "hi-IN" : "en-IN", { dateStyle: "medium", timeStyle: "short", numberingSystem: "latn" });
}

/** "2029-05-20" -> "20 May 2029" / "20 मई 2029" (a calendar date: no time zone shift). */
export function dateOnly(iso) {
  const d = new Date(`${String(iso).slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(lang === "hi" ? "hi-IN" : "en-IN", { dateStyle: "medium", timeZone: "UTC", numberingSystem: "latn" });
}
