import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSuite, closeConsole, type ConsoleServer, newPerson, openConsole, PEOPLE, screenshot, signIn } from './harness.js';

const START = /* GraphQL */ `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`;
const RUN = /* GraphQL */ `query($id: ID!) { run(runId: $id) { status steps { id approvalId approvalStatus } } }`;
const APPROVAL = /* GraphQL */ `query($id: ID!) { approval(approvalId: $id) { status receivedApprovals requiredApprovals approvers } }`;

interface RunData { run: { status: string; steps: Array<{ id: string; approvalId: string | null; approvalStatus: string | null }> } }
interface ApprovalData { approval: { status: string; receivedApprovals: number; requiredApprovals: number; approvers: string[] } }

describe.skipIf(browserSuite === 'skip')('console: the approvals inbox (real Chromium against the built server)', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => void ({ server, browser, origin } = await openConsole()), 90_000);
  afterAll(() => closeConsole({ server, browser }));

  /** alice starts a run through the API; resolves with its id once `stepId`'s gate is open. */
  async function startGated(input: Record<string, unknown>, stepId: string): Promise<{ runId: string; approvalId: string }> {
    const started = await server.gql<{ startRun: { runId: string } }>(PEOPLE.alice.token, START, { input: { profile: 'enterprise', ...input } });
    expect(started.errors).toBeUndefined();
    const runId = started.data!.startRun.runId;
    let approvalId: string | undefined;
    await expect.poll(async () => {
      const run = await server.gql<RunData>(PEOPLE.alice.token, RUN, { id: runId });
      approvalId = run.data?.run.steps.find((s) => s.id === stepId && s.approvalStatus === 'OPEN')?.approvalId ?? undefined;
      return approvalId;
    }, { timeout: 20_000 }).toBeTruthy();
    return { runId, approvalId: approvalId! };
  }

  const release = (goal: string) => ({ goal, playbook: { name: 'release', params: { environment: 'staging', version: '1.4' } } });
  const approvalOf = async (id: string) => (await server.gql<ApprovalData>(PEOPLE.admin.token, APPROVAL, { id })).data!.approval;
  const card = (page: Page, approvalId: string) => page.locator(`article[data-approval-id="${approvalId}"]`);
  /** POSTs of a named mutation a page sent. */
  const sentMutations = (page: Page, name: string) => {
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/graphql') && (r.postData() ?? '').includes(name)) sent.push(r.postData() ?? '');
    });
    return sent;
  };

  it('a request alice starts through the API appears live in bob\'s open inbox; bob approves it from the keyboard with a justification and the run SUCCEEDS', async () => {
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.bob.token, '/approvals');
    await expect.poll(() => page.getByTestId('inbox-count').textContent()).toBe('No approvals wait for you.');

    const started = Date.now();
    const { runId, approvalId } = await startGated(release('ship 1.4 to staging'), 'deploy');
    // No reload: the card arrives through approvalsChanged.
    await card(page, approvalId).waitFor();
    process.stderr.write(`[approvals] the card showed ${Date.now() - started} ms after startRun was sent (gate opened after the notes step)\n`);
    const shown = card(page, approvalId);
    expect(await shown.getByRole('heading').textContent()).toMatch(/deploy\.release\s*medium risk/);
    expect(await shown.getByTestId('quorum').textContent()).toBe('0 of 1');
    expect(await shown.textContent()).toMatch(/alice \(developer\)/);
    expect(await shown.getByTestId('countdown').textContent()).toMatch(/^(59|60) min|^1 h 00 min/);
    expect(await shown.getByTestId('input').textContent()).toContain('"environment": "staging"');
    await expect.poll(() => shown.getByRole('link', { name: 'ship 1.4 to staging' }).getAttribute('href')).toBe(`/runs/${runId}`);
    await screenshot(page, 'inbox');

    // j selects the (only) card and focuses it; a opens the approval form with focus in its first field.
    await page.keyboard.press('j');
    await expect.poll(() => page.evaluate<string | null>("document.activeElement?.getAttribute('data-approval-id') ?? null")).toBe(approvalId);
    await page.keyboard.press('a');
    const justification = shown.getByLabel(/^Justification/);
    // (Strings, not functions: the tests compile without the DOM library.)
    await expect.poll(() => page.evaluate<string>("document.activeElement.tagName + ': ' + document.activeElement.labels?.[0]?.textContent")).toBe('TEXTAREA: Justification (optional)');
    // Typing "j" and "a" in the field is text, not a shortcut.
    await page.keyboard.type('release train, ja');
    expect(await justification.inputValue()).toBe('release train, ja');
    await shown.getByRole('button', { name: 'Approve', exact: true }).click();

    // The decided card leaves the inbox (focus goes to the inbox's count, not lost), and the run goes on to SUCCEEDED.
    await shown.waitFor({ state: 'detached' });
    await expect.poll(() => page.evaluate<string | null>("document.activeElement?.getAttribute('data-testid') ?? null")).toBe('inbox-count');
    await expect.poll(() => page.getByTestId('inbox-live').textContent()).toMatch(/Approved deploy\.release|left the inbox/);
    await expect.poll(async () => (await server.gql<RunData>(PEOPLE.alice.token, RUN, { id: runId })).data?.run.status, { timeout: 20_000 }).toBe('SUCCEEDED');
    expect(await approvalOf(approvalId)).toMatchObject({ status: 'GRANTED', approvers: ['bob'] });
    await context.close();
  });

  it('alice opens her own request by its address and the SERVER refuses her approval, shown in place; nothing is recorded', async () => {
    const { approvalId } = await startGated(release('ship 1.5 to staging'), 'deploy');
    const { context, page } = await newPerson(browser);
    // The address as a link that did not encode the id's slashes (the console writes it encoded).
    await signIn(page, origin, PEOPLE.alice.token, `/approvals/${approvalId}`);
    const shown = card(page, approvalId);
    await shown.waitFor();
    const sent = sentMutations(page, 'ApproveApproval');
    await shown.getByRole('button', { name: 'Approve…' }).click();
    await shown.getByLabel(/^Justification/).fill('I am sure');
    await shown.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => shown.getByRole('alert').textContent()).toBe('Refused: alice requested this and may not decide it');
    expect(sent).toHaveLength(1); // the console sent it: the refusal is the server's
    expect(await approvalOf(approvalId)).toMatchObject({ status: 'OPEN', receivedApprovals: 0 });
    await screenshot(page, 'self-approval-refused');
    await context.close();
  });

  it('a critical request needs two devops engineers: after carol approves, dave\'s open card shows "1 of 2" live and he still may decide it', async () => {
    const { approvalId } = await startGated({ goal: 'purge old sessions', steps: [{ id: 'purge', tool: 'db.execute', domain: 'databases', input: { database: 'main', statement: 'DELETE FROM sessions' } }] }, 'purge');
    const [carol, dave] = await Promise.all([newPerson(browser), newPerson(browser)]);
    await Promise.all([signIn(carol.page, origin, PEOPLE.carol.token, '/approvals'), signIn(dave.page, origin, PEOPLE.dave.token, '/approvals')]);
    const carolCard = card(carol.page, approvalId);
    const daveCard = card(dave.page, approvalId);
    await Promise.all([carolCard.waitFor(), daveCard.waitFor()]);
    expect(await daveCard.getByRole('heading').textContent()).toMatch(/db\.execute\s*critical risk\s*urgent/);
    expect(await daveCard.getByTestId('quorum').textContent()).toBe('0 of 2');
    // Urgent first: the critical request tops dave's inbox, above older medium ones.
    expect(await dave.page.locator('article[data-approval-id]').first().getAttribute('data-approval-id')).toBe(approvalId);

    // A critical gate needs a justification: without one nothing is sent.
    await carolCard.getByRole('button', { name: 'Approve…' }).click();
    await carolCard.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => carolCard.getByRole('alert').textContent()).toMatch(/A justification is required/);
    await carolCard.getByLabel(/^Justification/).fill('sessions older than 90 days, ticket OPS-12');
    await carolCard.getByRole('button', { name: 'Approve', exact: true }).click();
    await carolCard.waitFor({ state: 'detached' }); // carol has voted: no longer hers to decide

    await expect.poll(() => daveCard.getByTestId('quorum').textContent()).toBe('1 of 2');
    expect(await daveCard.getByTestId('quorum').getAttribute('aria-label')).toBe('1 of 2 approvals (carol); 1 more needed');
    expect(await daveCard.getByRole('button', { name: 'Approve…' }).isEnabled()).toBe(true);
    expect(await approvalOf(approvalId)).toMatchObject({ status: 'OPEN', receivedApprovals: 1, requiredApprovals: 2, approvers: ['carol'] });
    await screenshot(dave.page, 'critical-1-of-2');
    await Promise.all([carol.context.close(), dave.context.close()]);
  });

  it('an edited input that breaks the tool\'s schema is refused before sending: nothing is sent, the approval stays open with 0 approvals', async () => {
    const { approvalId } = await startGated(release('ship 1.6 to staging'), 'deploy');
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.bob.token, `/approvals/${encodeURIComponent(approvalId)}`);
    const shown = card(page, approvalId);
    await shown.waitFor();
    const sent = sentMutations(page, 'ApproveApproval');
    await shown.getByRole('button', { name: 'Approve…' }).click();
    await shown.getByLabel('Approve with an edited input').check();
    const editor = shown.getByLabel('Edited input (JSON)');
    expect(JSON.parse(await editor.inputValue())).toEqual({ environment: 'staging', version: '1.4' });
    await editor.fill('{ "environment": "moon", "version": "1.4" }');
    await shown.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => shown.getByRole('alert').textContent()).toMatch(/Not sent:.*Edited input: environment: .*"dev","staging","production"/);
    await screenshot(page, 'edit-refused');
    await editor.fill('{ "environment": "staging", ');
    await shown.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => shown.getByRole('alert').textContent()).toMatch(/Edited input: not valid JSON/);
    expect(sent).toEqual([]);
    expect(await approvalOf(approvalId)).toMatchObject({ status: 'OPEN', receivedApprovals: 0 });
    await context.close();
  });

  it('a card\'s link opens its own address; once denied there, that address shows the outcome (also after a reload), not an error', async () => {
    const { approvalId } = await startGated(release('ship 1.7 to staging'), 'deploy');
    const { context, page } = await newPerson(browser);
    await signIn(page, origin, PEOPLE.bob.token, '/approvals');
    await card(page, approvalId).getByRole('link', { name: 'deploy.release' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Approval');
    expect(page.url()).toBe(`${origin}/approvals/${encodeURIComponent(approvalId)}`);
    const shown = card(page, approvalId);
    await shown.getByRole('button', { name: 'Deny…' }).click();
    await shown.getByLabel(/^Justification/).fill('not this week');
    await shown.getByRole('button', { name: 'Deny', exact: true }).click();
    await expect.poll(() => shown.getByTestId('outcome').textContent()).toBe('denied');
    await page.reload();
    await expect.poll(() => card(page, approvalId).getByTestId('outcome').textContent()).toBe('denied');
    expect(await card(page, approvalId).getByRole('button', { name: 'Approve…' }).count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
    // A viewer's notification link works too: the outcome, without the payload viewers may not read.
    const vera = await newPerson(browser);
    await signIn(vera.page, origin, PEOPLE.vera.token, `/approvals/${encodeURIComponent(approvalId)}`);
    await expect.poll(() => card(vera.page, approvalId).getByTestId('outcome').textContent()).toBe('denied');
    expect(await card(vera.page, approvalId).getByTestId('input').count()).toBe(0);
    expect(await vera.page.getByRole('alert').count()).toBe(0);
    await Promise.all([context.close(), vera.context.close()]);
  });

  it('bob escalates a request (shown on his card live); only alice, the requester, is offered to withdraw it, and it leaves bob\'s open inbox', async () => {
    const { approvalId } = await startGated(release('ship 1.8 to staging'), 'deploy');
    const [bob, alice] = await Promise.all([newPerson(browser), newPerson(browser)]);
    await signIn(bob.page, origin, PEOPLE.bob.token, '/approvals');
    const bobCard = card(bob.page, approvalId);
    await bobCard.waitFor();
    expect(await bobCard.getByRole('button', { name: 'Cancel request…' }).count()).toBe(0);
    await bobCard.getByRole('button', { name: 'Escalate…' }).click();
    await bobCard.getByLabel('Reason (optional)').fill('needs devops eyes');
    await bobCard.getByRole('button', { name: 'Escalate', exact: true }).click();
    await expect.poll(() => bobCard.getByRole('list', { name: 'Escalations' }).textContent()).toMatch(/escalated by bob to .*devops_engineer: needs devops eyes/);

    await signIn(alice.page, origin, PEOPLE.alice.token, `/approvals/${encodeURIComponent(approvalId)}`);
    const aliceCard = card(alice.page, approvalId);
    await aliceCard.getByRole('button', { name: 'Cancel request…' }).click();
    await aliceCard.getByRole('button', { name: 'Cancel request', exact: true }).click();
    await expect.poll(() => aliceCard.getByTestId('outcome').textContent()).toBe('withdrawn');
    await bobCard.waitFor({ state: 'detached' });
    expect(await approvalOf(approvalId)).toMatchObject({ status: 'CANCELLED' });
    await Promise.all([bob.context.close(), alice.context.close()]);
  });
});
