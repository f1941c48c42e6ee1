/**
 * The compose project the healthcheck suites share: a `db` service with a
 * healthcheck (probed every 200ms) and an `app` that waits for it to be
 * healthy; `extra` adds more services (indented as services).
 */
export interface HealthyDb {
  readonly command: string;
  /** The healthcheck's test, as YAML (a string or a flow sequence). */
  readonly test: string;
  readonly retries: number;
}

export function dependsOnHealthyYaml(image: string, db: HealthyDb, options: { name?: string; extra?: string } = {}): string {
  return `${options.name ? `name: ${options.name}\n` : ''}services:
  db:
    image: ${image}
    command: ${db.command}
    healthcheck:
      test: ${db.test}
      interval: 200ms
      retries: ${db.retries}
  app:
    image: ${image}
    command: sleep 1000
    depends_on:
      db: { condition: service_healthy }
${options.extra ?? ''}`;
}
