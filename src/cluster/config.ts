/// Cluster instance configuration lives with the rest of the schema (config/cluster.ts parses and
/// types `cluster.instances[]` when the configuration loads); the cluster modules take the types
/// from here so they keep one import path.
export { parseInstance, parseInstances, type ClusterInstance, type Endpoint, type HealthExpr, type HealthTestConfig } from '../../config/cluster.js'
