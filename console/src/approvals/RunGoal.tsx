import { useQuery } from 'urql';
import { Link } from 'wouter';
import { RUN_GOAL, type RunGoalData } from './queries';

/** The goal of the run a card belongs to, linking to its run page. */
export function RunGoal(props: { runId: string }) {
  const [result] = useQuery<RunGoalData>({ query: RUN_GOAL, variables: { runId: props.runId } });
  const goal = result.data?.run.goal;
  return (
    <Link href={`/runs/${encodeURIComponent(props.runId)}`} className="run-goal">
      {goal ?? (result.error ? props.runId : 'loading…')}
    </Link>
  );
}
