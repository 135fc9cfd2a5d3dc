/**
 * `xlss daemon` on its own: the entry of the daemon bundle (dist/xlss-daemon.mjs) that lab
 * guests run, and that bin/xlss.js runs for `xlss daemon` (so systemd runs it too). Same
 * commands and exit codes as `xlss daemon`; under emulation, loading one file instead of
 * every module of the CLI over 9p is what makes the daemon start fast, and everywhere the
 * one tree-shaken file keeps 17-18 MiB less resident than the modules under dist/.
 */
import { buildProgram, runProgram } from '../cli/program.js';
import { registerDaemonCommands } from './cli.js';

process.exitCode = await runProgram(buildProgram([registerDaemonCommands]), process.argv);
