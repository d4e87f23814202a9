// What `session` prints: the issued Secret's variables (src/kinds/temporarycredential/issued-secret.ts)
// as shell `export` lines, per cloud, as `eval $(kubectl keygate session)` wants them.

export const SESSION_FORMATS = ["aws", "alibaba", "huawei", "all"] as const;
export type SessionFormat = (typeof SESSION_FORMATS)[number];

type Cloud = Exclude<SessionFormat, "all">;

const VARIABLES: Record<Cloud, readonly string[]> = {
  aws: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
  alibaba: ["ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"],
  huawei: ["HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN"],
};

const SHELL_SAFE = /^[A-Za-z0-9_+/=.:,@%-]*$/;

function shellWord(value: string): string {
  return SHELL_SAFE.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/** One `export NAME=value` line per variable of the chosen clouds; a variable the Secret lacks is an error. */
export function exportLines(format: SessionFormat, data: Readonly<Record<string, string>>): string {
  const clouds: readonly Cloud[] = format === "all" ? ["aws", "alibaba", "huawei"] : [format];
  return clouds
    .flatMap((cloud) => VARIABLES[cloud])
    .map((name) => {
      const value = data[name];
      if (value === undefined) throw new Error(`the issued Secret has no ${name}`);
      return `export ${name}=${shellWord(value)}\n`;
    })
    .join("");
}
