// The session: the token lives in sessionStorage, so it survives reloads for the tab's life and
// is gone when the tab closes. The language is remembered across sessions (localStorage).

const TOKEN_KEY = "boothgraph.token";

export const session = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  /** The viewer (`me`), read once per page load. */
  me: null,
};

export function signIn(token) {
  session.token = token.trim();
  sessionStorage.setItem(TOKEN_KEY, session.token);
}

export function signOut() {
  session.token = "";
  session.me = null;
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Whether the viewer holds `permission` anywhere. */
export function can(permission) {
  return Boolean(session.me && session.me.permissions.includes(permission));
}
