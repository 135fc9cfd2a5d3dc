import { describe, expect, it } from 'vitest';
import { errorMessage, UsageError, ValidationError, XlssError } from './errors.js';

describe('errors', () => {
  it('XlssError carries a stable code, its subclass name and a cause', () => {
    const cause = new Error('root');
    const e = new XlssError('EFOO', 'went wrong', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('EFOO');
    expect(e.message).toBe('went wrong');
    expect(e.name).toBe('XlssError');
    expect(e.cause).toBe(cause);
  });

  it('ValidationError names the field in its message and property', () => {
    const e = new ValidationError('--nodes', 'must be a whole number');
    expect(e).toBeInstanceOf(XlssError);
    expect(e.code).toBe('EVALIDATION');
    expect(e.field).toBe('--nodes');
    expect(e.message).toBe('--nodes: must be a whole number');
    expect(e.name).toBe('ValidationError');
  });

  it('UsageError has its own code', () => {
    const e = new UsageError('bad');
    expect(e).toBeInstanceOf(XlssError);
    expect(e.code).toBe('EUSAGE');
    expect(e.name).toBe('UsageError');
  });

  it('errorMessage reads errors and anything else', () => {
    expect(errorMessage(new Error('x'))).toBe('x');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
