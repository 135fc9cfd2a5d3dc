import { describe, expect, it } from 'vitest';
import { countSteadyPassCommands } from './steady-pass.js';

describe('steady pass', () => {
  it('runs one report and no change command at 10 and 100 volumes', async () => {
    const ten = await countSteadyPassCommands(10);
    const hundred = await countSteadyPassCommands(100);
    console.log(ten, hundred);
    expect(ten.changeCommands).toBe(0);
    expect(hundred.commands).toBe(ten.commands);
  }, 60_000);
});
