/**
 * The generated protobuf modules the client ships, loaded once. They are CommonJS without
 * statically detectable exports, so they are taken whole (default import) and re-exported typed.
 */
import grpc from '@grpc/grpc-js';
import serverFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import serverFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';

export { grpc, serverFeaturesGrpc, serverFeaturesPb, sharedPb, streamsGrpc, streamsPb };
