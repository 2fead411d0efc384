/**
 * Runs a bundled task the way the Azure Pipelines agent does: `node <task>/index.js` with the
 * inputs, endpoints and variables in the environment (names formatted as the agent's
 * Handler.cs formats them), a fresh agent work folder, and nothing else from the parent
 * environment. Returns the parsed ##vso commands and fails the run if a secret leaks.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseFormattingLine, parseVsoLine, splitLines, type VsoCommand } from './vso';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_DIST = path.join(REPO_ROOT, 'dist');

export interface EndpointSpec {
  url: string;
  /** e.g. "Token", "UsernamePassword", "ServicePrincipal", "WorkloadIdentityFederation". */
  scheme: string;
  parameters: Record<string, string>;
  data?: Record<string, string>;
}

export interface TaskControl {
  /** Sends a signal to the task process (default SIGTERM), as the agent does on cancel. */
  kill(signal?: NodeJS.Signals): void;
  elapsedMs(): number;
}

export interface RunTaskOptions {
  /** Task folder name, e.g. "DatabricksDeployNotebooksV1". */
  task: string;
  /** Input values by task.json input name. */
  inputs?: Record<string, string>;
  /** Endpoints by id (the value a connectedService input holds). */
  endpoints?: Record<string, EndpointSpec>;
  /** Pipeline variables by name, e.g. { 'System.Debug': 'true' }; they override the defaults. */
  variables?: Record<string, string>;
  /** Secret pipeline variables (SECRET_*); their values are also scanned for leaks. */
  secretVariables?: Record<string, string>;
  /** Values that must never appear in output or files (endpoint secrets, tokens…). */
  secrets?: string[];
  /** Adds the SystemVssConnection endpoint with this AccessToken (WIF, azure-devops-node-api). */
  systemAccessToken?: string;
  /** Extra environment, e.g. NODE_EXTRA_CA_CERTS, HTTPS_PROXY. */
  env?: Record<string, string>;
  /** Working directory; default System.DefaultWorkingDirectory. */
  cwd?: string;
  /** Build.SourcesDirectory / System.DefaultWorkingDirectory; default a fresh folder in the work folder. */
  sourcesDirectory?: string;
  /** "release" adds Release.* variables and the release working directory layout. */
  hostType?: 'build' | 'release';
  /** Default 60 s; the process is killed and the promise rejects. */
  timeoutMs?: number;
  /** Folder holding tasks/<task>/index.js; default <repo>/dist. */
  distDir?: string;
  /** Explicit folder holding index.js (e.g. a task extracted from the .vsix). */
  taskDir?: string;
  /** Send `signal` (default SIGTERM) this long after start. */
  signalAfterMs?: number;
  signal?: NodeJS.Signals;
  onStdoutLine?: (line: string, control: TaskControl) => void;
  /** Report leaks in run.secretLeaks instead of rejecting. */
  allowSecretLeaks?: boolean;
  /** Keep the agent work folder (run.workFolder) for inspection; call run.cleanup() later. */
  keepWorkFolder?: boolean;
  /** Node binary; default the one running the tests. */
  nodePath?: string;
}

export interface Issue {
  type: string;
  message: string;
  properties: Record<string, string>;
}

export interface FileRef {
  path: string;
  /** Content read back after the run (undefined if the file did not exist). */
  content?: string;
}

export interface PublishedTestResults {
  type: string;
  properties: Record<string, string>;
  files: FileRef[];
}

export interface Upload extends FileRef {
  kind: 'artifact' | 'file' | 'log' | 'attachment';
  properties: Record<string, string>;
}

export interface SetVariable {
  name: string;
  value: string;
  isOutput: boolean;
  isSecret: boolean;
  isReadOnly: boolean;
}

export interface SecretLeak {
  /** "stdout line 12", "stderr line 3", "summary /…/x.md", "file _temp/x.log", … */
  where: string;
  /** Which secret: "secrets[1]", "secretVariables.X", "task.setsecret #2". */
  which: string;
  form: 'raw' | 'url-encoded' | 'json-escaped';
  /** The line or file name with the secret replaced by ***, cut to 200 characters. */
  excerpt: string;
}

export interface Group {
  title: string;
  line: number;
  endLine?: number;
}

export interface TaskRun {
  task: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutLines: string[];
  durationMs: number;
  /** Time from spawn to the first stdout byte. */
  firstOutputMs?: number;
  commands: VsoCommand[];
  /** The last task.complete. */
  result?: { result: string; message: string };
  /** What the agent records: a non-zero exit fails the step, else task.complete, else Succeeded. */
  outcome: 'Succeeded' | 'SucceededWithIssues' | 'Failed' | 'Cancelled' | 'Skipped';
  succeeded: boolean;
  issues: Issue[];
  errors: string[];
  warnings: string[];
  debug: string[];
  variables: SetVariable[];
  outputVariables: Record<string, string>;
  secretsSet: string[];
  publishedTestResults: PublishedTestResults[];
  summaries: FileRef[];
  uploads: Upload[];
  groups: Group[];
  secretLeaks: SecretLeak[];
  /** Throws (without printing any secret) when a secret leaked. */
  assertNoSecrets(): void;
  /** The agent work folder (removed after the run unless keepWorkFolder). */
  workFolder: string;
  tempDirectory: string;
  env: Record<string, string>;
  cleanup(): void;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_SCANNED_FILE = 20 * 1024 * 1024;

// Parent variables a child legitimately needs; everything else (INPUT_*, NODE_OPTIONS…) stays out.
const PASSTHROUGH_ENV = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'SystemRoot',
  'SYSTEMROOT',
  'windir',
  'ComSpec',
  'PATHEXT',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
  'TEMP',
  'TMP',
];

/** Variable name → environment name, as the agent formats it. */
export function variableEnvName(name: string): string {
  return name.replace(/\./g, '_').replace(/ /g, '_').toUpperCase();
}

function agentOs(): string {
  if (process.platform === 'win32') return 'Windows_NT';
  if (process.platform === 'darwin') return 'Darwin';
  return 'Linux';
}

interface Layout {
  root: string;
  work: string;
  temp: string;
  sources: string;
  staging: string;
  binaries: string;
  testResults: string;
  build: string;
  release: string;
}

function makeLayout(opts: RunTaskOptions): Layout {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'azp-run-'));
  const work = path.join(root, 'work');
  const build = path.join(work, '1');
  const layout: Layout = {
    root,
    work,
    temp: path.join(work, '_temp'),
    build,
    sources: opts.sourcesDirectory ?? path.join(build, 's'),
    staging: path.join(build, 'a'),
    binaries: path.join(build, 'b'),
    testResults: path.join(build, 'TestResults'),
    release: path.join(work, 'r1', 'a'),
  };
  for (const dir of [
    layout.temp,
    layout.staging,
    layout.binaries,
    layout.testResults,
    path.join(work, '_tool'),
  ]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  if (!opts.sourcesDirectory) fs.mkdirSync(layout.sources, { recursive: true });
  if (opts.hostType === 'release') fs.mkdirSync(layout.release, { recursive: true });
  return layout;
}

function defaultVariables(opts: RunTaskOptions, l: Layout): Record<string, string> {
  const collectionUri = 'https://dev.azure.com/contoso/';
  const release = opts.hostType === 'release';
  const defaultWorkingDirectory = release ? l.release : l.sources;
  const vars: Record<string, string> = {
    'Agent.Version': '4.266.2',
    'Agent.Name': 'Azure Pipelines 3',
    'Agent.Id': '9',
    'Agent.MachineName': 'fv-az123-456',
    'Agent.OS': agentOs(),
    'Agent.OSArchitecture': process.arch === 'arm64' ? 'ARM64' : 'X64',
    'Agent.HomeDirectory': path.join(l.root, 'agent'),
    'Agent.RootDirectory': l.work,
    'Agent.WorkFolder': l.work,
    'Agent.BuildDirectory': l.build,
    'Agent.TempDirectory': l.temp,
    'Agent.ToolsDirectory': path.join(l.work, '_tool'),
    'Agent.JobName': 'Job',
    'Agent.JobStatus': 'Succeeded',
    'System.CollectionUri': collectionUri,
    'System.TeamFoundationCollectionUri': collectionUri,
    'System.TeamFoundationServerUri': collectionUri,
    'System.CollectionId': '5f6d3b1c-1b2a-4c8e-9d0f-0a1b2c3d4e5f',
    'System.TeamProject': 'DataPlatform',
    'System.TeamProjectId': 'a8f3c7e2-4b1d-4e6a-9c2b-7d5e3f1a0b9c',
    'System.HostType': release ? 'release' : 'build',
    'System.ServerType': 'Hosted',
    'System.Culture': 'en-US',
    'System.DefinitionId': '42',
    'System.JobAttempt': '1',
    'System.JobId': '12f1170f-54f2-53f3-20dd-22fc7dff55f9',
    'System.JobName': '__default',
    'System.JobDisplayName': 'Job',
    'System.PhaseName': 'Job',
    'System.PhaseDisplayName': 'Job',
    'System.StageName': release ? '__default' : 'Build',
    'System.StageAttempt': '1',
    'System.PlanId': '3c4f8d2e-9a1b-4c6d-8e0f-1a2b3c4d5e6f',
    'System.TimelineId': '3c4f8d2e-9a1b-4c6d-8e0f-1a2b3c4d5e6f',
    'System.TaskInstanceId': 'e1d2c3b4-a5f6-4789-8abc-def012345678',
    'System.TaskDisplayName': opts.task,
    'System.DefaultWorkingDirectory': defaultWorkingDirectory,
    'System.WorkFolder': l.work,
    'System.ArtifactsDirectory': release ? l.release : l.staging,
    'System.PullRequest.IsFork': 'False',
    'Build.BuildId': '1234',
    'Build.BuildNumber': '20250601.1',
    'Build.BuildUri': 'vstfs:///Build/Build/1234',
    'Build.DefinitionName': 'data-platform',
    'Build.DefinitionVersion': '1',
    'Build.Reason': 'IndividualCI',
    'Build.Repository.Name': 'data-platform',
    'Build.Repository.Provider': 'TfsGit',
    'Build.Repository.Uri': `${collectionUri}DataPlatform/_git/data-platform`,
    'Build.Repository.LocalPath': l.sources,
    'Build.SourceBranch': 'refs/heads/main',
    'Build.SourceBranchName': 'main',
    'Build.SourceVersion': '9f2c1e7a4b6d8c0e2f4a6b8d0c2e4f6a8b0d2c4e',
    'Build.SourcesDirectory': l.sources,
    'Build.ArtifactStagingDirectory': l.staging,
    'Build.StagingDirectory': l.staging,
    'Build.BinariesDirectory': l.binaries,
    'Build.RequestedFor': 'Pipeline User',
    'Build.QueuedBy': 'Pipeline User',
    'Common.TestResultsDirectory': l.testResults,
    'Pipeline.Workspace': l.build,
  };
  if (release) {
    Object.assign(vars, {
      'Agent.ReleaseDirectory': l.release,
      'Release.ReleaseId': '77',
      'Release.ReleaseName': 'Release-77',
      'Release.ReleaseUri': 'vstfs:///ReleaseManagement/Release/77',
      'Release.DefinitionId': '7',
      'Release.DefinitionName': 'data-platform-cd',
      'Release.EnvironmentId': '301',
      'Release.EnvironmentName': 'test',
      'Release.AttemptNumber': '1',
      'Release.DeploymentID': '905',
      'Release.Reason': 'ContinuousDeployment',
      'Release.RequestedFor': 'Pipeline User',
    });
  }
  return vars;
}

function endpointEnv(id: string, ep: EndpointSpec): Record<string, string> {
  const env: Record<string, string> = {
    [`ENDPOINT_URL_${id}`]: ep.url,
    [`ENDPOINT_AUTH_${id}`]: JSON.stringify({ parameters: ep.parameters, scheme: ep.scheme }),
    [`ENDPOINT_AUTH_SCHEME_${id}`]: ep.scheme,
  };
  for (const [k, v] of Object.entries(ep.parameters))
    env[`ENDPOINT_AUTH_PARAMETER_${id}_${variableEnvName(k)}`] = v;
  if (ep.data) {
    env[`ENDPOINT_DATA_${id}`] = JSON.stringify(ep.data);
    for (const [k, v] of Object.entries(ep.data)) env[`ENDPOINT_DATA_${id}_${variableEnvName(k)}`] = v;
  }
  return env;
}

/** The exact environment the task process gets. */
export function buildTaskEnv(opts: RunTaskOptions, layout: Layout): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASSTHROUGH_ENV) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  const variables = { ...defaultVariables(opts, layout), ...(opts.variables ?? {}) };
  for (const [name, value] of Object.entries(variables)) env[variableEnvName(name)] = value;
  // The agent also exports agent.jobstatus under its raw name.
  env['agent.jobstatus'] = variables['Agent.JobStatus'];
  env.VSTS_PUBLIC_VARIABLES = JSON.stringify(Object.keys(variables));
  const secretVariables = opts.secretVariables ?? {};
  for (const [name, value] of Object.entries(secretVariables)) env[`SECRET_${variableEnvName(name)}`] = value;
  env.VSTS_SECRET_VARIABLES = JSON.stringify(Object.keys(secretVariables));
  env.TF_BUILD = 'True';
  // The agent keeps '.' in input names; task.json names have none, and task-lib maps both.
  for (const [name, value] of Object.entries(opts.inputs ?? {}))
    env[`INPUT_${variableEnvName(name)}`] = value;
  const endpoints: Record<string, EndpointSpec> = { ...(opts.endpoints ?? {}) };
  if (opts.systemAccessToken !== undefined) {
    endpoints.SYSTEMVSSCONNECTION = {
      url: variables['System.CollectionUri'],
      scheme: 'OAuth',
      parameters: { AccessToken: opts.systemAccessToken },
    };
  }
  for (const [id, ep] of Object.entries(endpoints)) Object.assign(env, endpointEnv(id, ep));
  Object.assign(env, opts.env ?? {});
  return env;
}

// ---------------------------------------------------------------- secret scanning

interface SecretEntry {
  which: string;
  value: string;
  /** For values the task declared with task.setsecret: the stdout line that declared it. */
  declaredAtLine?: number;
}

function forms(value: string): { form: SecretLeak['form']; text: string }[] {
  const out: { form: SecretLeak['form']; text: string }[] = [{ form: 'raw', text: value }];
  const url = encodeURIComponent(value);
  if (url !== value) out.push({ form: 'url-encoded', text: url });
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) out.push({ form: 'json-escaped', text: json });
  return out;
}

function excerpt(text: string, secrets: SecretEntry[]): string {
  let t = text;
  for (const s of secrets) for (const f of forms(s.value)) t = t.split(f.text).join('***');
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function scanForSecrets(
  secrets: SecretEntry[],
  stdoutLines: string[],
  stderrLines: string[],
  files: { where: string; path: string }[],
): SecretLeak[] {
  const leaks: SecretLeak[] = [];
  const all = secrets;
  const scanText = (where: string, text: string, candidates: SecretEntry[]) => {
    for (const s of candidates) {
      for (const f of forms(s.value)) {
        if (text.includes(f.text)) {
          leaks.push({ where, which: s.which, form: f.form, excerpt: excerpt(text, all) });
          break;
        }
      }
    }
  };
  stdoutLines.forEach((line, i) => {
    const cmd = parseVsoLine(line, i);
    // The two legitimate ways to hand a secret to the agent.
    if (cmd?.command === 'task.setsecret') return;
    if (
      cmd?.command === 'task.setvariable' &&
      /[\s;]issecret=true(;|$)/i.test(line.slice(0, line.indexOf(']')))
    )
      return;
    // A value the task declares secret is masked by the agent from then on; before, it leaks.
    const candidates = secrets.filter((s) => s.declaredAtLine === undefined || i < s.declaredAtLine);
    scanText(`stdout line ${i + 1}`, line, candidates);
  });
  const explicit = secrets.filter((s) => s.declaredAtLine === undefined);
  stderrLines.forEach((line, i) => scanText(`stderr line ${i + 1}`, line, explicit));
  const seen = new Set<string>();
  for (const f of files) {
    const key = path.resolve(f.path);
    if (seen.has(key)) continue;
    seen.add(key);
    let buf: Buffer;
    try {
      if (fs.statSync(f.path).size > MAX_SCANNED_FILE) continue;
      buf = fs.readFileSync(f.path);
    } catch {
      continue;
    }
    for (const s of secrets) {
      for (const form of forms(s.value)) {
        if (buf.includes(Buffer.from(form.text, 'utf8'))) {
          leaks.push({
            where: f.where,
            which: s.which,
            form: form.form,
            excerpt: excerpt(path.basename(f.path), all),
          });
          break;
        }
      }
    }
  }
  return leaks;
}

export function formatLeaks(task: string, leaks: SecretLeak[]): string {
  const lines = leaks.map((l) => `  - ${l.which} (${l.form}) in ${l.where}: ${l.excerpt}`);
  return `${task}: ${leaks.length} secret leak(s):\n${lines.join('\n')}`;
}

// ---------------------------------------------------------------- running

function readBack(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

export function resolveTaskScript(opts: Pick<RunTaskOptions, 'task' | 'taskDir' | 'distDir'>): string {
  const dir = opts.taskDir ?? path.join(opts.distDir ?? DEFAULT_DIST, 'tasks', opts.task);
  const script = path.join(dir, 'index.js');
  if (!fs.existsSync(script)) {
    throw new Error(`${script} does not exist: run \`node scripts/build.mjs\` first.`);
  }
  return script;
}

export function runTask(opts: RunTaskOptions): Promise<TaskRun> {
  const script = resolveTaskScript(opts);
  const layout = makeLayout(opts);
  const env = buildTaskEnv(opts, layout);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return new Promise<TaskRun>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(opts.nodePath ?? process.execPath, [script], {
      cwd: opts.cwd ?? env.SYSTEM_DEFAULTWORKINGDIRECTORY,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let firstOutputMs: number | undefined;
    let timedOut = false;
    const control: TaskControl = {
      kill: (signal = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
      elapsedMs: () => performance.now() - started,
    };
    const emitLine = (line: string) => {
      if (!opts.onStdoutLine) return;
      try {
        opts.onStdoutLine(line, control);
      } catch {
        // A throwing hook must not wedge the run; the test sees its own assertion later.
      }
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (firstOutputMs === undefined) firstOutputMs = performance.now() - started;
      stdout += chunk;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        emitLine(pending.slice(0, nl).replace(/\r$/, ''));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const signalTimer =
      opts.signalAfterMs !== undefined
        ? setTimeout(() => control.kill(opts.signal ?? 'SIGTERM'), opts.signalAfterMs)
        : undefined;
    const timeout = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);

    child.on('error', (err) => {
      clearTimeout(timeout);
      if (signalTimer) clearTimeout(signalTimer);
      fs.rmSync(layout.root, { recursive: true, force: true });
      reject(err);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timeout);
      if (signalTimer) clearTimeout(signalTimer);
      if (pending) emitLine(pending.replace(/\r$/, ''));
      const durationMs = performance.now() - started;
      let run: TaskRun;
      try {
        run = collect({ opts, layout, env, stdout, stderr, exitCode, signal, durationMs, firstOutputMs });
      } catch (err) {
        fs.rmSync(layout.root, { recursive: true, force: true });
        reject(err);
        return;
      }
      if (!opts.keepWorkFolder) run.cleanup();
      if (timedOut) {
        const tail = (s: string) =>
          splitLines(s)
            .slice(-15)
            .map((l) => excerpt(l, secretEntries(opts, run)));
        reject(
          new Error(
            `${opts.task} timed out after ${timeoutMs} ms.\n--- stdout (tail) ---\n${tail(stdout).join('\n')}\n--- stderr (tail) ---\n${tail(stderr).join('\n')}`,
          ),
        );
        return;
      }
      if (run.secretLeaks.length && !opts.allowSecretLeaks) {
        reject(new Error(formatLeaks(opts.task, run.secretLeaks)));
        return;
      }
      resolve(run);
    });
  });
}

function secretEntries(opts: RunTaskOptions, run?: Pick<TaskRun, 'secretsSet'>): SecretEntry[] {
  const entries: SecretEntry[] = [];
  (opts.secrets ?? []).forEach((value, i) => entries.push({ which: `secrets[${i}]`, value }));
  for (const [name, value] of Object.entries(opts.secretVariables ?? {})) {
    entries.push({ which: `secretVariables.${name}`, value });
  }
  if (opts.systemAccessToken) entries.push({ which: 'systemAccessToken', value: opts.systemAccessToken });
  (run?.secretsSet ?? []).forEach((value, i) => entries.push({ which: `task.setsecret #${i + 1}`, value }));
  // Empty or very short values would match everywhere; the agent does not mask those either.
  return entries.filter((e) => e.value && e.value.length >= 4);
}

interface CollectArgs {
  opts: RunTaskOptions;
  layout: Layout;
  env: Record<string, string>;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  firstOutputMs?: number;
}

function collect(a: CollectArgs): TaskRun {
  const { opts, layout } = a;
  const stdoutLines = splitLines(a.stdout);
  const commands: VsoCommand[] = [];
  const groups: Group[] = [];
  const openGroups: Group[] = [];
  stdoutLines.forEach((line, i) => {
    const cmd = parseVsoLine(line, i);
    if (cmd) {
      commands.push(cmd);
      return;
    }
    const fmt = parseFormattingLine(line, i);
    if (fmt?.kind === 'group') {
      const g: Group = { title: fmt.text, line: i };
      groups.push(g);
      openGroups.push(g);
    } else if (fmt?.kind === 'endgroup') {
      const g = openGroups.pop();
      if (g) g.endLine = i;
    }
  });

  const resolvePath = (p: string) =>
    path.isAbsolute(p) ? p : path.resolve(a.opts.cwd ?? a.env.SYSTEM_DEFAULTWORKINGDIRECTORY, p);
  const fileRef = (p: string): FileRef => ({ path: resolvePath(p), content: readBack(resolvePath(p)) });

  let result: TaskRun['result'];
  const issues: Issue[] = [];
  const debug: string[] = [];
  const variables: SetVariable[] = [];
  const secretsSet: string[] = [];
  const secretDeclaredAt: number[] = [];
  const publishedTestResults: PublishedTestResults[] = [];
  const summaries: FileRef[] = [];
  const uploads: Upload[] = [];
  for (const c of commands) {
    // Property names are case-insensitive for the agent (isOutput, isoutput…).
    const p: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.properties)) p[k.toLowerCase()] = v;
    switch (c.command) {
      case 'task.complete':
        result = { result: p.result ?? 'Succeeded', message: c.message };
        break;
      case 'task.issue':
      case 'task.logissue':
        issues.push({ type: (p.type ?? '').toLowerCase(), message: c.message, properties: c.properties });
        break;
      case 'task.debug':
        debug.push(c.message);
        break;
      case 'task.setvariable':
        variables.push({
          name: p.variable ?? '',
          value: c.message,
          isOutput: p.isoutput?.toLowerCase() === 'true',
          isSecret: p.issecret?.toLowerCase() === 'true',
          isReadOnly: p.isreadonly?.toLowerCase() === 'true',
        });
        break;
      case 'task.setsecret':
        secretsSet.push(c.message);
        secretDeclaredAt.push(c.line);
        break;
      case 'results.publish':
        publishedTestResults.push({
          type: p.type ?? '',
          properties: c.properties,
          files: (p.resultfiles ?? '')
            .split(',')
            .filter(Boolean)
            .map((f) => fileRef(f)),
        });
        break;
      case 'task.uploadsummary':
        summaries.push(fileRef(c.message));
        break;
      case 'task.addattachment':
        if ((p.type ?? '').toLowerCase() === 'distributedtask.core.summary')
          summaries.push(fileRef(c.message));
        else uploads.push({ kind: 'attachment', properties: c.properties, ...fileRef(c.message) });
        break;
      case 'artifact.upload':
        uploads.push({ kind: 'artifact', properties: c.properties, ...fileRef(c.message) });
        break;
      case 'task.uploadfile':
        uploads.push({ kind: 'file', properties: c.properties, ...fileRef(c.message) });
        break;
      case 'build.uploadlog':
        uploads.push({ kind: 'log', properties: c.properties, ...fileRef(c.message) });
        break;
      default:
        break;
    }
  }

  const outputVariables: Record<string, string> = {};
  for (const v of variables) if (v.isOutput) outputVariables[v.name] = v.value;

  let outcome: TaskRun['outcome'];
  if (a.exitCode !== 0 || a.signal) outcome = result?.result === 'Cancelled' ? 'Cancelled' : 'Failed';
  else outcome = (result?.result as TaskRun['outcome']) ?? 'Succeeded';

  // Secrets: the explicit ones everywhere; declared ones before their declaration and in files.
  const entries = secretEntries(opts);
  secretsSet.forEach((value, i) => {
    if (value && value.length >= 4 && !entries.some((e) => e.value === value)) {
      entries.push({ which: `task.setsecret #${i + 1}`, value, declaredAtLine: secretDeclaredAt[i] });
    }
  });
  const files: { where: string; path: string }[] = [
    ...summaries.map((s) => ({ where: `summary ${s.path}`, path: s.path })),
    ...publishedTestResults.flatMap((r) =>
      r.files.map((f) => ({ where: `test results file ${f.path}`, path: f.path })),
    ),
    ...uploads.map((u) => ({ where: `${u.kind} upload ${u.path}`, path: u.path })),
    ...listFiles(layout.root).map((f) => ({ where: `file ${path.relative(layout.root, f)}`, path: f })),
  ];
  const secretLeaks = scanForSecrets(entries, stdoutLines, splitLines(a.stderr), files);

  const run: TaskRun = {
    task: opts.task,
    exitCode: a.exitCode,
    signal: a.signal,
    stdout: a.stdout,
    stderr: a.stderr,
    stdoutLines,
    durationMs: a.durationMs,
    firstOutputMs: a.firstOutputMs,
    commands,
    result,
    outcome,
    succeeded: outcome === 'Succeeded' || outcome === 'SucceededWithIssues',
    issues,
    errors: issues.filter((i) => i.type === 'error').map((i) => i.message),
    warnings: issues.filter((i) => i.type === 'warning').map((i) => i.message),
    debug,
    variables,
    outputVariables,
    secretsSet,
    publishedTestResults,
    summaries,
    uploads,
    groups,
    secretLeaks,
    assertNoSecrets() {
      if (secretLeaks.length) throw new Error(formatLeaks(opts.task, secretLeaks));
    },
    workFolder: layout.work,
    tempDirectory: layout.temp,
    env: a.env,
    cleanup() {
      fs.rmSync(layout.root, { recursive: true, force: true });
    },
  };
  return run;
}

/** A one-line description of a run for assertion messages (a run that leaked a secret has already rejected). */
export function describeRun(run: TaskRun): string {
  const issues = run.issues.map((i) => `${i.type}: ${i.message}`).join(' | ');
  return `${run.task} exit=${run.exitCode} outcome=${run.outcome} result=${run.result?.result ?? '-'} ${issues}`;
}
