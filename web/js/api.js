// The one module that talks to the server: /graphql, /import and /export of this same origin,
// always with the viewer's own token. An UNAUTHENTICATED answer (expired or revoked token)
// ends the session: main.js hears "boothgraph:signed-out" and shows the sign-in form.
import { session, signOut } from "./session.js";

export class ApiError extends Error {
  constructor(code, message, extensions = {}, status = 200) {
    super(message);
    this.code = code;
    this.extensions = extensions;
    this.status = status;
  }
}

// Read-your-writes with standbys (README, Consistency-Token): a response to a write carries a
// token; echoing the newest one makes later reads see that write. Absent without standbys.
const CONSISTENCY = "Consistency-Token";
let consistencyToken = null;

function remember(token) {
  if (token) consistencyToken = token;
}

function headers(extra = {}) {
  const all = { Authorization: `Bearer ${session.token}`, ...extra };
  if (consistencyToken) all[CONSISTENCY] = consistencyToken;
  return all;
}

async function errorOf(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: fall through */ }
  const first = body && body.errors && body.errors[0];
  const code = (first && first.extensions && first.extensions.code)
    || (response.status === 401 ? "UNAUTHENTICATED" : response.status >= 500 ? "SERVICE_UNAVAILABLE" : "BAD_REQUEST");
  return new ApiError(code, first ? first.message : response.statusText, first ? first.extensions || {} : {}, response.status);
}

function fail(error) {
  if (error.code === "UNAUTHENTICATED") {
    signOut();
    window.dispatchEvent(new CustomEvent("boothgraph:signed-out", { detail: "session.expired" }));
  }
  throw error;
}

async function post(query, variables) {
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify({ query, variables }),
    });
    remember(response.headers.get(CONSISTENCY));
    return response;
  } catch {
    throw new ApiError("NETWORK", "network");
  }
}

/** POST one GraphQL operation; resolves to `data`, rejects with the first error as ApiError. */
export async function graphql(query, variables = {}) {
  const response = await post(query, variables);
  if (!response.ok) fail(await errorOf(response));
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    fail(new ApiError((first.extensions && first.extensions.code) || "INTERNAL_SERVER_ERROR", first.message,
      first.extensions || {}, response.status));
  }
  return body.data;
}

/** The same for the query console: {status, body} whatever the answer, errors included. */
export async function graphqlRaw(query, variables = {}) {
  const response = await post(query, variables);
  if (response.status === 401) fail(await errorOf(response));
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  return { status: response.status, body };
}

/** POST /import: one part per file, named as the file; `onProgress(0..1)` while sending. */
export function upload(files, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append(file.name, file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/import");
    xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
    xhr.setRequestHeader("Accept", "application/json");
    if (consistencyToken) xhr.setRequestHeader(CONSISTENCY, consistencyToken);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener("error", () => reject(new ApiError("NETWORK", "network")));
    xhr.addEventListener("load", () => {
      remember(xhr.getResponseHeader(CONSISTENCY));
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(body); return; }
      const first = body && body.errors && body.errors[0];
      const error = new ApiError((first && first.extensions && first.extensions.code) || "BAD_REQUEST",
        first ? first.message : xhr.statusText, first ? first.extensions || {} : {}, xhr.status);
      try { fail(error); } catch (e) { reject(e); }
    });
    xhr.send(form);
  });
}

/** GET /export/voters.csv?unit=CODE with the token, saved as a file by the browser. */
export function download(unitCode) {
  return save(`/export/voters.csv?unit=${encodeURIComponent(unitCode)}`, `voters-${unitCode}.csv`);
}

/** The printed walk list or voter slips (`kind`) of a booth, or of one of its roll pages (docs/pages.md). */
export function printout(kind, unitCode, page) {
  const params = new URLSearchParams({ unit: unitCode });
  if (page) params.set("page", String(page));
  return save(`/export/${kind}.pdf?${params}`, `${kind}-${unitCode}${page ? `-P${String(page).padStart(2, "0")}` : ""}.pdf`);
}

/** A GET with the token (a plain link would not carry it), handed to the browser as a file. */
async function save(path, filename) {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) fail(await errorOf(response));
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob.size;
}
