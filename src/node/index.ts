// Node-only helpers: `dynamodb-session/node`. Everything else is in the main entry, which runs
// anywhere. src/node/ (this entry, the CLI) is the only place that may use Node's APIs, and it may
// import every layer but the framework adapters.
export { loadNodeConfig } from './config.ts'
