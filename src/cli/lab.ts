/** `dropout-lab lab`: serves the browser lab (src/node/labServer.ts) on 127.0.0.1 until Ctrl+C. */
import type { Command } from 'commander';
import { startLabServer } from '../node/labServer.js';
import { integerAtLeast, pathFlag } from './options.js';

interface LabFlags {
  port: number;
  host: string;
  dataDir?: string;
  allowRemote: boolean;
  allowHost?: string;
  verbose: boolean;
}

/** Registers `lab` on the program: serves the browser lab until Ctrl+C. */
export function labCommand(program: Command): Command {
  return program
    .command('lab')
    .description('serve the browser lab (training in a Web Worker, live curves, dropout masks) on 127.0.0.1')
    .option('--port <n>', 'TCP port (0 = any free port)', integerAtLeast('--port', 0, 'e.g. --port 8080'), 0)
    .option('--host <addr>', 'address to bind (other than loopback only with --allow-remote)', '127.0.0.1')
    .option(
      '--allow-remote',
      'allow a --host reachable from other machines (the lab has no authentication)',
      false,
    )
    .option(
      '--allow-host <names>',
      'comma-separated extra Host names to answer to (e.g. this machine’s DNS name)',
    )
    .option(
      '--data-dir <dir>',
      'folder with the four Fashion-MNIST IDX files (else $DROPOUT_LAB_DATA, cache, system, download)',
      pathFlag('--data-dir'),
    )
    .option('--verbose', 'print stack traces on errors', false)
    .action(async (f: LabFlags) => {
      const print = (line: string): void => {
        process.stdout.write(line + '\n');
      };
      const server = await startLabServer({
        port: f.port,
        host: f.host,
        dataDir: f.dataDir,
        log: print,
        allowRemote: f.allowRemote,
        allowedHosts:
          f.allowHost
            ?.split(',')
            .map((h) => h.trim())
            .filter((h) => h !== '') ?? [],
      });
      print(`dropout-lab lab: open ${server.url}  (Ctrl+C to stop)`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
    });
}
