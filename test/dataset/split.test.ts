// The 'closest' percent-slice rule of Hugging Face datasets: int(round(pc * n / 100)), ties to even.
import { roundHalfEven, sliceRowCount, sliceSpec } from '../../src/dataset';

describe('sliceRowCount', () => {
  test('the four ultrachat_200k splits at 5% (the notebook run)', () => {
    expect(sliceRowCount(207865, 5)).toBe(10393); // 10393.25
    expect(sliceRowCount(23110, 5)).toBe(1156); // 1155.5 → even 1156
    expect(sliceRowCount(256032, 5)).toBe(12802); // 12801.6
    expect(sliceRowCount(28304, 5)).toBe(1415); // 1415.2
  });

  test('exact .5 cases round to the even neighbour', () => {
    expect(sliceRowCount(10, 5)).toBe(0); // 0.5 → 0
    expect(sliceRowCount(30, 5)).toBe(2); // 1.5 → 2
    expect(sliceRowCount(50, 5)).toBe(2); // 2.5 → 2
    expect(sliceRowCount(70, 5)).toBe(4); // 3.5 → 4
    expect(sliceRowCount(1, 50)).toBe(0); // 0.5 → 0
    expect(sliceRowCount(3, 50)).toBe(2); // 1.5 → 2
    expect(sliceRowCount(5, 50)).toBe(2); // 2.5 → 2
    expect(sliceRowCount(22, 25)).toBe(6); // 5.5 → 6
    expect(sliceRowCount(26, 25)).toBe(6); // 6.5 → 6
  });

  test('0%, 100% and tiny splits', () => {
    expect(sliceRowCount(207865, 0)).toBe(0);
    expect(sliceRowCount(207865, 100)).toBe(207865);
    expect(sliceRowCount(0, 5)).toBe(0);
    expect(sliceRowCount(0, 100)).toBe(0);
    expect(sliceRowCount(1, 100)).toBe(1);
    expect(sliceRowCount(1, 5)).toBe(0);
    expect(sliceRowCount(9, 5)).toBe(0); // 0.45
    expect(sliceRowCount(11, 5)).toBe(1); // 0.55
    expect(sliceRowCount(2000, 5)).toBe(100);
    expect(sliceRowCount(400, 5)).toBe(20);
  });

  test('rejects nonsense inputs', () => {
    expect(() => sliceRowCount(-1, 5)).toThrow(RangeError);
    expect(() => sliceRowCount(1.5, 5)).toThrow(/non-negative integer/);
    expect(() => sliceRowCount(100, -1)).toThrow(/between 0 and 100/);
    expect(() => sliceRowCount(100, 101)).toThrow(RangeError);
    expect(() => sliceRowCount(100, Number.NaN)).toThrow(RangeError);
  });

  test('roundHalfEven matches Python round() on doubles', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999999, 2.5000001, 1155.5, 10393.25].map(roundHalfEven)).toEqual([
      0, 2, 2, 0, -2, 2, 3, 1156, 10393,
    ]);
  });

  test('sliceSpec is the split string the notebook asks for', () => {
    expect(sliceSpec('train_sft', 5)).toBe('train_sft[0%:5%]');
  });
});
