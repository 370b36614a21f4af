/** The command tree of the berth CLI. */
import { CommandSpec } from '../command';
import { containerInspectCommand, imageInspectCommand, inspectCommand } from './inspect';
import { imageLsCommand, imagesCommand, importCommand } from './images';
import { killCommand, restartCommand, rmCommand, startCommand, stopCommand, waitCommand } from './containers';
import { logsCommand } from './logs';
import { psCommand } from './ps';
import { createCommand, runCommand } from './run';
import { infoCommand, versionCommand } from './system';

const sub = (cmd: CommandSpec, overrides: Partial<CommandSpec> = {}): CommandSpec => ({ ...cmd, topOrder: undefined, ...overrides });

const containerGroup: CommandSpec = {
  name: 'container',
  use: 'container',
  short: 'Manage containers',
  subcommands: [
    sub(createCommand),
    containerInspectCommand,
    sub(killCommand),
    sub(logsCommand),
    sub(psCommand, { name: 'ls', use: 'ls [OPTIONS]', aliases: ['ps', 'list'] }),
    sub(restartCommand),
    sub(rmCommand),
    sub(runCommand),
    sub(startCommand),
    sub(stopCommand),
    sub(waitCommand),
  ],
};

const imageGroup: CommandSpec = {
  name: 'image',
  use: 'image',
  short: 'Manage images',
  subcommands: [sub(importCommand), imageInspectCommand, imageLsCommand],
};

const systemGroup: CommandSpec = {
  name: 'system',
  use: 'system',
  short: 'Manage Docker',
  subcommands: [sub(infoCommand)],
};

export const COMMANDS: CommandSpec[] = [
  runCommand,
  psCommand,
  imagesCommand,
  versionCommand,
  infoCommand,
  containerGroup,
  imageGroup,
  systemGroup,
  createCommand,
  importCommand,
  inspectCommand,
  killCommand,
  logsCommand,
  restartCommand,
  rmCommand,
  startCommand,
  stopCommand,
  waitCommand,
];

export function findCommand(list: readonly CommandSpec[], name: string): CommandSpec | undefined {
  return list.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}
