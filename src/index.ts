/**
 * cejobs as a library: Code Engine jobs on one machine.
 *
 *     import { openLocalEngine } from 'cejobs';
 *     const engine = await openLocalEngine();             // ~/.cejobs, process driver
 *     engine.createJob('default', { name: 'hello', run_commands: ['echo', 'hi'], scale_array_spec: '0-9' });
 *     engine.submitRun('default', { name: 'hello-1', job_name: 'hello' });
 *     const run = await engine.waitForRun('default', 'hello-1');
 *     await engine.close();                                // instances keep running
 */
export { openLocalEngine, defaultHome, type LocalEngineOptions } from './server/local.js';
export { Engine, openEngine, DEFAULT_PROJECT, type EngineOptions } from './engine/engine.js';
export { compileSettings, type EngineSettings, type EngineSettingsInput } from './engine/settings.js';
export { systemClock, FakeClock, type Clock, type TimerHandle } from './engine/clock.js';
export type { EngineChangeMap, EngineChange } from './engine/changes.js';
export type { InstanceLog, TaggedRecord, LogQuery } from './engine/run-logs.js';
export { formatRecord } from './logs/reader.js';
export type { LogRecord, LogStream } from './logs/format.js';
export { createDriver, DRIVER_NAMES, isDriverName, type DriverName } from './drivers/registry.js';
export { createProcessDriver, shutdownLauncher, type ProcessDriverOptions } from './drivers/process/driver.js';
export { FakeDriver, FakeRuntime, type FakeBehavior, type FakeDriverOptions } from './drivers/fake/driver.js';
export type * from './drivers/driver.js';
export { CejobsError, ERROR_CODES, isCejobsError, type ErrorCode, type FieldIssue } from './domain/errors.js';
export type * from './domain/types.js';
export type { FailureReason, AttemptOutcome } from './domain/failure-reasons.js';
export type { ConfigMap, Secret, SecretFormat, ConfigMapPrototype, SecretPrototype } from './domain/config.js';
export { ensureSecretKey } from './server/secret-key.js';
export type { Build, BuildRun, BuildSpec, BuildRunStatus, BuildFailureReason, BuildStrategyType } from './domain/builds.js';
export { createBuilder, type BuilderSetup } from './builders/registry.js';
export { BuildError, type Builder, type BuildInput, type BuildOutput, type BuildLog } from './builders/builder.js';
export { DockerfileBuilder } from './builders/dockerfile.js';
export { SourceBuilder } from './builders/source.js';
