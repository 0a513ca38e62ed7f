import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISO } from './scalars.js';

export enum NotificationStatus { PLANNED = 'PLANNED', SENDING = 'SENDING', RETRYING = 'RETRYING', DELIVERED = 'DELIVERED', FAILED = 'FAILED', SKIPPED = 'SKIPPED' }
registerEnumType(NotificationStatus, {
  name: 'NotificationStatus',
  description: 'PLANNED: waiting for its time (a reminder). SENDING: an attempt is under way. RETRYING: an attempt failed, another follows. DELIVERED, FAILED (no tries left), SKIPPED (the gate closed first).',
});

@ObjectType({ description: 'One message about an approval to one address, from the approval\'s delivery record in the log.' })
export class ApprovalNotification {
  @Field({ description: 'The configured channel\'s name (notifications.channels).' }) channel!: string;
  @Field({ description: 'The address: an email, a Slack channel (`default`: the webhook\'s own), or the webhook channel\'s name.' }) to!: string;
  @Field({ description: 'requested, escalated, reminder or outcome.' }) trigger!: string;
  @Field(() => NotificationStatus) status!: NotificationStatus;
  @Field(() => Int) attempts!: number;
  @Field(() => String, { nullable: true, description: 'The last failure, scrubbed of secrets and URL paths.' }) lastError?: string;
  @Field(() => DateTimeISO, { description: 'When its status last changed (for PLANNED: when it falls due).' }) at!: string;
}
