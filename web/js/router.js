// Hash routes, one URL per view: #/unit/UP-AWD-LKO, #/voters/UP-AWD-LKO?search=…, #/voter/EPIC,
// #/calls, #/campaigns, #/team, #/data, #/audit?unit=…&action=…. Back and forward are the
// browser's own (hashchange).

/** The route of the current location: {name, arg, query}. */
export function current() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  const [name = "", ...rest] = path.split("/").map(decodeURIComponent);
  return { name, arg: rest.join("/"), query: new URLSearchParams(search) };
}

/** "#/name/arg?query" */
export function href(name, arg, query) {
  let out = `#/${name}`;
  if (arg) out += `/${encodeURIComponent(arg)}`;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== "") params.set(k, v);
  const qs = params.toString();
  return qs ? `${out}?${qs}` : out;
}

export function go(name, arg, query) {
  location.hash = href(name, arg, query);
}
