/**
 * What a task hands back to the pipeline: output variables, a markdown run
 * summary (Extensions tab), published JUnit results and uploaded artifacts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { redact, registerSecret } from '../common/secrets';
import { taskLib } from './tl';

/** Output variable, referenced downstream as $(<step>.<name>). */
export function setOutput(name: string, value: string, opts: { secret?: boolean } = {}): void {
  if (opts.secret) registerSecret(value);
  taskLib().setVariable(name, value, opts.secret ?? false, true);
}

export function tempDirectory(): string {
  return taskLib().getVariable('Agent.TempDirectory') || os.tmpdir();
}

/** File-name-safe version of a title; the agent shows the file's base name as the section title. */
export function summaryFileName(title: string): string {
  const safe = title
    .replace(/[^A-Za-z0-9 ._-]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80);
  return `${safe || 'Summary'}.md`;
}

/**
 * Writes markdown into Agent.TempDirectory and uploads it as a run summary
 * (##vso[task.uploadsummary]). Returns the file path.
 */
export function uploadSummary(title: string, markdown: string, dir: string = tempDirectory()): string {
  const folder = fs.mkdtempSync(path.join(dir, 'summary-'));
  const file = path.join(folder, summaryFileName(title));
  fs.writeFileSync(file, redact(markdown), 'utf8');
  taskLib().uploadSummary(file);
  return file;
}

export interface JUnitPublishOptions {
  runTitle: string;
  mergeResults?: boolean;
  platform?: string;
  configuration?: string;
  publishRunAttachments?: boolean;
}

/** Publishes JUnit XML files as a test run (##vso[results.publish type=JUnit]). */
export function publishJUnit(files: string | string[], opts: JUnitPublishOptions): void {
  const list = Array.isArray(files) ? files : [files];
  if (list.length === 0) return;
  new (taskLib().TestPublisher)('JUnit').publish(
    list,
    opts.mergeResults ? 'true' : 'false',
    opts.platform ?? '',
    opts.configuration ?? '',
    opts.runTitle,
    opts.publishRunAttachments === false ? 'false' : 'true',
  );
}

/**
 * Uploads a file or folder into a build artifact (##vso[artifact.upload]);
 * containerFolder defaults to the artifact name.
 */
export function uploadArtifact(
  artifactName: string,
  filePath: string,
  containerFolder: string = artifactName,
): void {
  taskLib().uploadArtifact(containerFolder, filePath, artifactName);
}

/** Attaches a file to the step's log (##vso[task.uploadfile]). */
export function uploadLogFile(filePath: string): void {
  taskLib().uploadFile(filePath);
}
