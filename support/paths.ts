import path from 'node:path';

/** Where a run writes its reports, relative to the config's folder: DYSPACH_REPORTS_DIR or `reports`. */
export function reportsDirectory(configDir: string): string {
  return path.resolve(configDir, process.env.DYSPACH_REPORTS_DIR?.trim() || 'reports');
}

/** Where Playwright and Allure write when a reporter or output folder is chosen on the command line. */
export const kDefaultOutputFolders = ['playwright-report', 'blob-report', 'test-results', 'allure-results'];
