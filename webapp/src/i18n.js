// UI texts in Swedish (default) and English.
const TEXTS = {
  sv: {
    signInTitle: "Logga in",
    username: "Användarnamn",
    password: "Lösenord",
    signIn: "Logga in",
    signOut: "Logga ut",
    wrongCredentials: "Fel användarnamn eller lösenord",
    failed: "Något gick fel, försök igen",
    extension: "Anknytning",
    myStatus: "Min status",
    note: "Notering",
    available: "Tillgänglig",
    busy: "Upptagen",
    meeting: "Möte",
    lunch: "Lunch",
    gone: "Gått för dagen",
    custom: "Egen",
    until: "till",
    colleagues: "Kollegor",
    onCall: "i samtal",
    ringing: "ringer",
    minutes: "min",
    hours: "h",
    groups: "Svarsgrupper",
    groupLogIn: "Logga in",
    groupLogOut: "Logga ut",
    loggedIn: "inloggad",
    loggedOut: "utloggad",
    night: "nattläge",
  },
  en: {
    signInTitle: "Sign in",
    username: "Username",
    password: "Password",
    signIn: "Sign in",
    signOut: "Sign out",
    wrongCredentials: "Wrong username or password",
    failed: "Something went wrong, try again",
    extension: "Extension",
    myStatus: "My status",
    note: "Note",
    available: "Available",
    busy: "Busy",
    meeting: "Meeting",
    lunch: "Lunch",
    gone: "Gone for the day",
    custom: "Custom",
    until: "until",
    colleagues: "Colleagues",
    onCall: "on a call",
    ringing: "ringing",
    minutes: "min",
    hours: "h",
    groups: "Answer groups",
    groupLogIn: "Log in",
    groupLogOut: "Log out",
    loggedIn: "logged in",
    loggedOut: "logged out",
    night: "night mode",
  },
};

export function language() {
  const saved = localStorage.getItem("pbx.lang");
  if (saved === "sv" || saved === "en") return saved;
  return (navigator.language || "sv").toLowerCase().startsWith("sv") ? "sv" : "en";
}

export function t(key) {
  return TEXTS[language()][key] ?? key;
}
