import type { RouteDef } from '../../server/platform/routing.js';

/**
 * Concrete URLs for route-table paths, for tests built from routeTable():
 * every `:param` gets a real value from a rule, or building the URL throws
 * naming the route and the parameter, so a new route with a new parameter
 * fails its test until someone gives it a value.
 */
export interface ParamRule<F> {
  param: string;
  /** The path up to the parameter must match (absent: anywhere), for names that mean different things in different places. */
  under?: RegExp;
  value: (fixtures: F) => string | number;
}

export const paramsOf = (path: string): string[] => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);

/** The path of a route with each parameter filled in (URI-encoded); throws naming a parameter no rule covers. */
export function pathFor<F>(r: Pick<RouteDef, 'method' | 'path'>, rules: ParamRule<F>[], fixtures: F, hint = 'the test'): string {
  if (/[*{}()?+]/.test(r.path)) throw new Error(`${r.method.toUpperCase()} ${r.path}: cannot build a URL for this pattern; teach pathFor() its syntax`);
  return r.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string, offset: number) => {
    const before = r.path.slice(0, offset);
    const rule = rules.find((p) => p.param === name && (!p.under || p.under.test(before)));
    if (!rule) throw new Error(`${r.method.toUpperCase()} ${r.path}: no value for :${name} there; add a rule for it in ${hint}`);
    return encodeURIComponent(String(rule.value(fixtures)));
  });
}
