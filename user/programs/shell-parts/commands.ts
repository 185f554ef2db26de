// From syntax (parse.ts) to a pipeline ready to start (pipeline.ts): each word expanded
// (expand.ts) and globbed (glob.ts), redirections worked out in order (2>&1 sends errors where
// output goes at that point), and each command's environment made: the shell's exported
// variables, then the command's own NAME=value words.
import { PipelineSyntax, REDIRECT_IN, REDIRECT_OUT, REDIRECT_APPEND, REDIRECT_ERRORS, REDIRECT_ERRORS_APPEND, REDIRECT_ERRORS_TO_OUTPUT } from "./parse";
import { Expander } from "./expand";
import { Lister, glob } from "./glob";
import { Command, Pipeline, ERRORS_FILE, ERRORS_OUTPUT_FILE, ERRORS_OUTPUT_STREAM } from "./pipeline";

export function expandPipeline(syntax: PipelineSyntax, expander: Expander, lister: Lister, background: bool, text: string): Pipeline {
  const p = new Pipeline();
  p.background = background;
  p.text = text;
  for (let i = 0; i < syntax.commands.length; i++) {
    const s = syntax.commands[i];
    const c = new Command();
    for (let w = 0; w < s.words.length; w++) {
      const fields = glob(expander.expand(s.words[w]), lister);
      for (let f = 0; f < fields.length; f++) c.argv.push(fields[f]);
    }
    const own = new Array<string>();
    for (let a = 0; a < s.assignments.length; a++) own.push(s.assignments[a].name + "=" + expander.text(s.assignments[a].value));
    c.env = expander.variables.environment(own);
    for (let r = 0; r < s.redirects.length; r++) {
      const redirect = s.redirects[r];
      const kind = redirect.kind;
      if (kind == REDIRECT_ERRORS_TO_OUTPUT) {
        c.errorsTo = c.output.length > 0 ? ERRORS_OUTPUT_FILE : ERRORS_OUTPUT_STREAM;
        continue;
      }
      const target = expander.text(redirect.target!);
      if (kind == REDIRECT_IN) c.input = target;
      else if (kind == REDIRECT_OUT || kind == REDIRECT_APPEND) {
        c.output = target;
        c.append = kind == REDIRECT_APPEND;
      } else if (kind == REDIRECT_ERRORS || kind == REDIRECT_ERRORS_APPEND) {
        c.errorsTo = ERRORS_FILE;
        c.errors = target;
        c.errorsAppend = kind == REDIRECT_ERRORS_APPEND;
      }
    }
    p.commands.push(c);
  }
  return p;
}
