"""davprovider"""
