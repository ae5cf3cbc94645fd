// Data (data.import, data.export): upload CSV files with progress and the server's line-precise
// errors; download a unit's voters.csv. No GraphQL request.
import { download, upload } from "../api.js";
import { field, fill, h, options } from "../dom.js";
import { errorText, nameOf, num, t } from "../i18n.js";
import { can, session } from "../session.js";

export async function dataView(main) {
  fill(main, h("h1", {}, t("data.title")), can("data.import") ? importForm() : null, can("data.export") ? exportForm() : null);
}

function importForm() {
  const files = h("input", { name: "files", type: "file", accept: ".csv,text/csv", multiple: true, required: true });
  const bar = h("progress", { max: 1, value: 0, hidden: true, "aria-label": t("data.progress") });
  const result = h("div", { id: "import-result", "aria-live": "polite" });
  const form = h("form", { class: "card", id: "import" },
    h("h2", {}, t("data.import")),
    h("p", {}, t("data.importHelp")),
    field(t("data.files"), files),
    bar, result,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("data.upload"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(result);
    bar.hidden = false;
    bar.value = 0;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const body = await upload([...files.files], (share) => { bar.value = share; });
      bar.value = 1;
      const counts = (body && body.data && body.data.files) || {};
      fill(result, h("p", { class: "notice ok", role: "status" }, t("data.imported")),
        h("ul", {}, Object.entries(counts).map(([name, c]) => h("li", {}, t("data.fileCounts", { name, rows: num(c.rows), inserted: num(c.inserted), updated: num(c.updated) })))));
    } catch (error) {
      if (error.code === "UNAUTHENTICATED") return;
      bar.hidden = true;
      const ext = error.extensions || {};
      const where = ext.file ? [t("data.where", { file: ext.file, line: ext.line ?? "?" }), ext.column ? t("data.column", { column: ext.column }) : ""]
        .filter(Boolean).join(", ") : "";
      fill(result, h("div", { class: "error", role: "alert" },
        h("p", {}, h("strong", {}, t("data.refused")), " ", ext.file ? t("data.fix") : errorText(error)),
        where ? h("p", { class: "where" }, where) : null,
        h("p", {}, h("code", {}, error.message))));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function exportForm() {
  const units = [...new Map(session.me.assignments.map((a) => [a.unit.code, a.unit])).values()];
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", id: "export" },
    h("h2", {}, t("data.export")),
    h("p", {}, t("data.exportHelp")),
    field(t("data.unit"), h("input", { name: "unit", required: true, list: "export-units", value: units[0] ? units[0].code : "", autocomplete: "off" })),
    h("datalist", { id: "export-units" }, options(units.map((u) => [u.code, nameOf(u)]))),
    status,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("data.download"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const unit = String(new FormData(form).get("unit")).trim();
    fill(status, h("p", {}, t("data.downloading")));
    try {
      const bytes = await download(unit);
      fill(status, h("p", { class: "notice ok" }, t("data.downloaded", { unit, size: num(Math.ceil(bytes / 1024)) })));
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") fill(status, h("p", { class: "error", role: "alert" }, errorText(error), ` (${error.message})`));
    }
  });
  return form;
}
