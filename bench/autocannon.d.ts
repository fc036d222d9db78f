// The part of autocannon's API the benchmark uses.
declare module "autocannon" {
  namespace autocannon {
    interface Request {
      method?: "GET" | "POST" | "PUT";
      path: string;
      headers?: Record<string, string>;
      body?: string;
    }
    interface Options {
      url: string;
      requests?: Request[];
      connections?: number;
      duration?: number;
    }
    interface Result {
      requests: { average: number; total: number };
      non2xx: number;
      errors: number;
    }
  }
  function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
