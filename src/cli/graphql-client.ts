/** A failure the CLI reports in one line and turns into its exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** POSTs one GraphQL operation to a Gatehouse server; errors become CliErrors with the server's code. */
export async function graphql<T>(url: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  if (!token) throw new CliError('no token: pass --token or set GATEHOUSE_TOKEN', 2);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new CliError(`cannot reach Gatehouse at ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  let body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new CliError(`${url} did not answer with GraphQL (HTTP ${response.status})`);
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? 'ERROR';
    if (code === 'UNAUTHENTICATED') throw new CliError(`the server refused the token (${code}): check --token / GATEHOUSE_TOKEN`);
    throw new CliError(`${code}: ${first.message}`);
  }
  if (!body.data) throw new CliError(`${url} answered without data (HTTP ${response.status})`);
  return body.data;
}
