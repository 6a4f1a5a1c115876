const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Python's `time.asctime()`: local time as `Fri Oct 30 18:27:00 2020`, the day
 * of the month padded with a space (`Tue Jun  9 04:26:40 1993`).
 *
 * @example
 * asctime(new Date(2020, 9, 30, 18, 27)) // 'Fri Oct 30 18:27:00 2020'
 */
export function asctime(date: Date = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  const day = String(date.getDate()).padStart(2, ' ');
  return `${days[date.getDay()]} ${months[date.getMonth()]} ${day} ${time} ${date.getFullYear()}`;
}
