// An empty TypeScript program that stays up: the memory floor of `node --import tsx` itself.
setInterval(() => {}, 60_000);
