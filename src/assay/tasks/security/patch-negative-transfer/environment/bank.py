def transfer(accounts, src, dst, amount):
    accounts[src] -= amount
    accounts[dst] += amount
