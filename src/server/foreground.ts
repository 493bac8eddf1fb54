/**
 * `ce server` in the foreground: start, say where, serve until SIGINT/SIGTERM, then shut down
 * gracefully. Running instances are left running; the next start re-adopts them.
 */
import { tokenFile } from '../shared/state-home.js';
import { VERSION } from '../shared/version.js';
import { startServer, type ServerOptions } from './serve.js';

export async function runServerForeground(options: ServerOptions & { out: (line: string) => void }): Promise<void> {
  const { out } = options;
  const server = await startServer({ ...options, log: options.log ?? ((line) => out(line)) });
  const caps = server.engine.driver.capabilities;
  out(`cejobs ${VERSION} server listening on ${server.url}`);
  out(`  driver:     ${server.engine.driver.name} (cpu: ${caps.limits.cpu.how}; memory: ${caps.limits.memory.how}; ephemeral storage: ${caps.limits.ephemeralStorage.how})`);
  out(`  state home: ${server.home}`);
  out(`  token:      ${tokenFile(server.home)} ('ce server token' prints it)`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  out('shutting down; running instances keep running and are re-adopted at the next start');
  await server.close();
  out('stopped');
}
