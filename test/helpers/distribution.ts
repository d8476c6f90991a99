/** The config.yml that tests and benchmarks give distribution's registry (`docker-registry serve`). */
export function distributionConfig(root: string, addr: string, options: { accessLog?: boolean } = {}): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    `    disabled: ${options.accessLog === true ? 'false' : 'true'}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${root}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${addr}`,
    '',
  ].join('\n');
}
