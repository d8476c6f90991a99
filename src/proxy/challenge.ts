/**
 * `WWW-Authenticate` challenges as registries send them (RFC 7235): `Bearer realm="…",service="…",
 * scope="…"` for docker's token flow, `Basic realm="…"` for htpasswd. Only the first challenge of
 * a supported scheme is kept.
 */
export interface Challenge {
  /** Lower-cased: `bearer` or `basic`. */
  readonly scheme: 'bearer' | 'basic';
  readonly params: Readonly<Record<string, string>>;
}

const PARAM = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) {
    let rest = value.trim();
    while (rest !== '') {
      const scheme = /^([A-Za-z]+)\s*/.exec(rest);
      if (!scheme?.[1]) break;
      rest = rest.slice(scheme[0].length);
      const params: Record<string, string> = {};
      PARAM.lastIndex = 0;
      let consumed = 0;
      for (;;) {
        PARAM.lastIndex = consumed;
        const m = PARAM.exec(rest);
        if (!m?.[1]) break;
        params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
        consumed = PARAM.lastIndex;
      }
      rest = rest.slice(consumed).replace(/^[\s,]+/, '');
      const name = scheme[1].toLowerCase();
      if (name === 'bearer' || name === 'basic') out.push({ scheme: name, params });
    }
  }
  return out;
}

/** The challenge to answer: Bearer before Basic, as docker prefers. */
export function pickChallenge(header: string | string[] | undefined): Challenge | undefined {
  const all = parseChallenges(header);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
}
