// tests/serve_openai.cjs — the official `openai` npm client against `natter serve` (run by
// tests/cli/serve_openai.sh): node serve_openai.cjs NPM_DIR BASE_URL MODEL CHAT_TEXT_FILE
// COMPLETION_TEXT_FILE. Lists the models, asks for the greedy chat reply and the greedy
// completion of the shell test's prompts, whole and streamed, and checks that they are the
// texts `natter run` printed (the files), with usage; a wrong key and a bad field come back as
// the client's AuthenticationError and BadRequestError. Exits 1 on the first difference.
'use strict';
const fs = require('fs');
const { createRequire } = require('module');
const [npmDir, baseURL, model, chatFile, complFile] = process.argv.slice(2);
const OpenAI = createRequire(npmDir + '/package.json')('openai');
const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'k3y', maxRetries: 0 });
const chatWant = fs.readFileSync(chatFile, 'utf8');
const complWant = fs.readFileSync(complFile, 'utf8');

function check(what, got, want) {
  if (got !== want) {
    console.error(`FAIL: ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    process.exit(1);
  }
  console.log(`ok ${what}`);
}

async function main() {
  const models = await client.models.list();
  check('models.list', models.data.map((m) => m.id).join(','), model);

  const msgs = [{ role: 'user', content: 'Tell me a story' }];
  const chat = await client.chat.completions.create({ model, messages: msgs, temperature: 0,
                                                      max_tokens: 24 });
  check('chat content', chat.choices[0].message.content, chatWant);
  check('chat finish_reason', chat.choices[0].finish_reason, 'length');
  check('chat usage', chat.usage.completion_tokens, 24);

  const stream = await client.chat.completions.create({ model, messages: msgs, temperature: 0,
                                                        max_tokens: 24, stream: true,
                                                        stream_options: { include_usage: true } });
  let text = '', usage = null, finish = null;
  for await (const chunk of stream) {
    if (chunk.choices.length && chunk.choices[0].delta.content)
      text += chunk.choices[0].delta.content;
    if (chunk.choices.length && chunk.choices[0].finish_reason)
      finish = chunk.choices[0].finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  check('chat stream content', text, chatWant);
  check('chat stream finish_reason', finish, 'length');
  check('chat stream usage', usage && usage.completion_tokens, 24);

  const compl = await client.completions.create({ model, prompt: 'Once upon a time',
                                                  temperature: 0, max_tokens: 16 });
  check('completion text', compl.choices[0].text, complWant);
  const cstream = await client.completions.create({ model, prompt: 'Once upon a time',
                                                    temperature: 0, max_tokens: 16,
                                                    stream: true });
  let ctext = '';
  for await (const chunk of cstream) ctext += chunk.choices[0].text;
  check('completion stream text', ctext, complWant);

  try {
    await client.chat.completions.create({ model, messages: msgs, temperature: 'hot' });
    check('bad field', 'accepted', 'BadRequestError');
  } catch (e) {
    check('bad field', e instanceof OpenAI.BadRequestError ? e.status + ' ' + e.param : String(e),
          '400 temperature');
  }
  const wrong = new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'nope', maxRetries: 0 });
  try {
    await wrong.models.list();
    check('wrong key', 'accepted', 'AuthenticationError');
  } catch (e) {
    check('wrong key', e instanceof OpenAI.AuthenticationError ? e.status : String(e), 401);
  }
}

main().catch((e) => {
  console.error('FAIL: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
