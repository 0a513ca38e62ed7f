import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'The first broken link of an audit chain.' })
export class AuditFinding {
  @Field(() => Int, { description: 'Revision in the run\'s stream where the chain breaks.' }) revision!: number;
  @Field({ description: '`changed`, `removed`, `inserted`, `reordered`, `unchained`, `bad_signature`, `unsigned`, `unknown_key`, `unsealed`, `ungranted`, `malformed` or `misplaced`.' }) kind!: string;
  @Field() reason!: string;
}

@ObjectType({ description: 'A run\'s audit chain checked by the server with its own public key (as `gatehouse audit verify <runId> --public-key` would).' })
export class AuditVerification {
  @Field() runId!: string;
  @Field({ description: 'The chain, the grants, the signatures and any seal all check out.' }) ok!: boolean;
  @Field(() => Int) events!: number;
  @Field(() => Int, { description: 'Decision signatures and seals checked.' }) signaturesChecked!: number;
  @Field({ description: 'False when the server has no key to check signatures with.' }) signaturesVerified!: boolean;
  @Field({ description: 'The stream ends in a seal (a finished run); an unfinished run is not sealed yet.' }) sealed!: boolean;
  @Field(() => Int, { description: 'Events after the last signature or seal: no signature vouches for them yet.' }) unsignedTail!: number;
  @Field(() => AuditFinding, { nullable: true }) finding?: AuditFinding;
}
