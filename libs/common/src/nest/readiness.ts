/** Components report readiness here; /ready is 200 only when every registered check passes. */
export class Readiness {
  private static readonly checks = new Map<string, () => boolean>();

  static register(name: string, check: () => boolean): void {
    Readiness.checks.set(name, check);
  }

  static report(): { ready: boolean; checks: Record<string, boolean> } {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of Readiness.checks) checks[name] = check();
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  static reset(): void {
    Readiness.checks.clear();
  }
}
