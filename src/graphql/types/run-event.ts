import { Authorized, Field, Int, ObjectType } from 'type-graphql';
import { PAYLOAD_ROLES } from '../auth/roles.js';
import { Connection } from './connection.js';
import { Stage } from './run.js';
import { DateTimeISO, JSON } from './scalars.js';

@ObjectType({ description: 'One event of a run\'s stream: the audit replay.' })
export class RunEvent {
  @Field({ description: 'Opaque cursor: pass it as `after` to continue right after this event.' }) cursor!: string;
  @Field() runId!: string;
  @Field(() => Int, { description: 'Revision in the run\'s stream, from 0.' }) revision!: number;
  @Field({ description: 'Opaque position in the global log.' }) position!: string;
  @Field() id!: string;
  @Field() type!: string;
  @Field(() => Stage) stage!: Stage;
  @Field() actor!: string;
  @Field(() => String, { nullable: true }) causationId?: string;
  @Field(() => String, { nullable: true, description: 'The Gatehouse instance whose engine decided the event (GATEHOUSE_INSTANCE_ID); null for events an API call appended before instances were recorded.' }) instance?: string;
  @Field(() => String, { nullable: true, description: 'The audit chain hash, where the event carries one.' }) hash?: string;
  @Field(() => String, { nullable: true }) stepId?: string;
  @Field(() => DateTimeISO) recordedAt!: Date;
  @Authorized(PAYLOAD_ROLES)
  @Field(() => JSON, { description: 'The event data (not for viewers).' }) data!: unknown;
}

@ObjectType()
export class RunEventConnection extends Connection(RunEvent) {}
