/** The command tree of the berth CLI. */
import { CommandSpec } from '../command';
import { containerInspectCommand, imageInspectCommand, inspectCommand } from './inspect';
import { imageLsCommand, imagesCommand, importCommand } from './images';
import { killCommand, restartCommand, rmCommand, startCommand, stopCommand, waitCommand } from './containers';
import { logsCommand } from './logs';
import { psCommand } from './ps';
import { createCommand, runCommand } from './run';
import { infoCommand, versionCommand } from './system';
import { attachCommand } from './attach';
import { execCommand } from './exec';
import { historyCommand, imagePruneCommand, imageRmCommand, loadCommand, rmiCommand, saveCommand, tagCommand } from './image-manage';
import { containerPruneCommand, pauseCommand, renameCommand, unpauseCommand, updateCommand } from './lifecycle';
import { systemDfCommand } from './system-df';
import { eventsCommand } from './events';
import { statsCommand } from './stats';
import { topCommand } from './top';
import { volumeGroup } from './volume';
import { cpCommand } from './cp';
import { exportCommand } from './export';
import { commitCommand, diffCommand } from './commit';
import { networkGroup, portCommand } from './network';

const sub = (cmd: CommandSpec, overrides: Partial<CommandSpec> = {}): CommandSpec => ({ ...cmd, topOrder: undefined, ...overrides });

const containerGroup: CommandSpec = {
  name: 'container',
  use: 'container',
  short: 'Manage containers',
  subcommands: [
    sub(attachCommand),
    sub(commitCommand),
    sub(cpCommand),
    sub(createCommand),
    sub(diffCommand),
    sub(execCommand),
    sub(exportCommand),
    containerInspectCommand,
    sub(killCommand),
    sub(logsCommand),
    sub(psCommand, { name: 'ls', use: 'ls [OPTIONS]', aliases: ['ps', 'list'] }),
    sub(pauseCommand),
    sub(portCommand),
    containerPruneCommand,
    sub(renameCommand),
    sub(restartCommand),
    sub(rmCommand),
    sub(runCommand),
    sub(startCommand),
    sub(statsCommand),
    sub(stopCommand),
    sub(topCommand),
    sub(unpauseCommand),
    sub(updateCommand),
    sub(waitCommand),
  ],
};

const imageGroup: CommandSpec = {
  name: 'image',
  use: 'image',
  short: 'Manage images',
  subcommands: [
    sub(historyCommand),
    sub(importCommand),
    imageInspectCommand,
    sub(loadCommand),
    imageLsCommand,
    imagePruneCommand,
    sub(imageRmCommand),
    sub(saveCommand),
    sub(tagCommand),
  ],
};

const systemGroup: CommandSpec = {
  name: 'system',
  use: 'system',
  short: 'Manage Docker',
  subcommands: [systemDfCommand, sub(eventsCommand), sub(infoCommand)],
};

export const COMMANDS: CommandSpec[] = [
  runCommand,
  execCommand,
  psCommand,
  imagesCommand,
  versionCommand,
  infoCommand,
  containerGroup,
  imageGroup,
  systemGroup,
  attachCommand,
  createCommand,
  eventsCommand,
  historyCommand,
  importCommand,
  inspectCommand,
  killCommand,
  loadCommand,
  logsCommand,
  pauseCommand,
  renameCommand,
  restartCommand,
  rmCommand,
  rmiCommand,
  saveCommand,
  startCommand,
  statsCommand,
  stopCommand,
  tagCommand,
  topCommand,
  unpauseCommand,
  updateCommand,
  waitCommand,
  volumeGroup,
  cpCommand,
  commitCommand,
  diffCommand,
  exportCommand,
  networkGroup, portCommand,
];

export function findCommand(list: readonly CommandSpec[], name: string): CommandSpec | undefined {
  return list.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}
